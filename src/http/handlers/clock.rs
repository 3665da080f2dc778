//! `/_mock/clock`: read, freeze, advance and resume the mock's clock.

use bytes::Bytes;
use warp::reply::Response;

use crate::http::bodies::{self, Advance, AdvanceBy, Freeze};
use crate::http::error::ApiError;
use crate::http::views::{ClockView, NextTransitionView};
use crate::mock::Mock;

use super::json;

/// `GET /_mock/clock`
pub async fn get(mock: Mock) -> Result<Response, ApiError> {
    Ok(json(&ClockView::from(mock.clock())))
}

/// `POST /_mock/clock/freeze` with optional `{"at": RFC 3339}`
pub async fn freeze(body: Bytes, mock: Mock) -> Result<Response, ApiError> {
    let freeze: Freeze = bodies::parse(&body)?;
    let reading = mock.freeze_clock(freeze.at).await?;
    Ok(json(&ClockView::from(reading)))
}

/// `POST /_mock/clock/advance` with `{"seconds": N}` or
/// `{"to_next_transition": true}`
pub async fn advance(body: Bytes, mock: Mock) -> Result<Response, ApiError> {
    let advance: Advance = bodies::parse(&body)?;
    match advance.by()? {
        AdvanceBy::Step(step) => Ok(json(&ClockView::from(mock.advance_clock(step).await?))),
        AdvanceBy::NextTransition => {
            let moved = mock.advance_to_next_transition().await?;
            let reading = moved.unwrap_or_else(|| mock.clock());
            Ok(json(&NextTransitionView::new(reading, moved.is_some())))
        }
    }
}

/// `POST /_mock/clock/resume`
pub async fn resume(body: Bytes, mock: Mock) -> Result<Response, ApiError> {
    bodies::parse::<bodies::Empty>(&body)?;
    Ok(json(&ClockView::from(mock.resume_clock().await?)))
}
