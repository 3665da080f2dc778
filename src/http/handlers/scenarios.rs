//! `/_mock/scenarios`: list, create, update and delete scenarios.

use bytes::Bytes;
use warp::http::StatusCode;
use warp::reply::Response;

use crate::http::bodies::{self, NewScenario, ScenarioChanges};
use crate::http::error::ApiError;
use crate::http::views::ScenarioView;
use crate::mock::Mock;

use super::{id_param, json, json_with_status, no_content};

/// `GET /_mock/scenarios`
pub async fn list(mock: Mock) -> Result<Response, ApiError> {
    let scenarios = mock.scenarios()?;
    let views: Vec<ScenarioView<'_>> = scenarios.iter().map(ScenarioView::from).collect();
    Ok(json(&views))
}

/// `POST /_mock/scenarios`
pub async fn create(body: Bytes, mock: Mock) -> Result<Response, ApiError> {
    let new: NewScenario = bodies::parse(&body)?;
    let scenario = mock.create_scenario(new.into_scenario()?)?;
    Ok(json_with_status(
        &ScenarioView::from(&scenario),
        StatusCode::CREATED,
    ))
}

/// `PUT /_mock/scenarios/:scenario_id`
pub async fn update(id: String, body: Bytes, mock: Mock) -> Result<Response, ApiError> {
    let scenario_id = id_param(&id, "scenario_id")?;
    let changes: ScenarioChanges = bodies::parse(&body)?;

    let scenario = mock.update_scenario(scenario_id, changes.into())?;
    Ok(json(&ScenarioView::from(&scenario)))
}

/// `DELETE /_mock/scenarios/:scenario_id`
pub async fn delete(id: String, mock: Mock) -> Result<Response, ApiError> {
    let scenario_id = id_param(&id, "scenario_id")?;
    mock.delete_scenario(scenario_id)?;
    Ok(no_content())
}
