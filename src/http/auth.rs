//! Who is calling, and what that lets them do.
//!
//! A request is sorted by its credentials (`PRIVATE-TOKEN` or
//! `Authorization: Bearer`) into a [`Caller`], and each kind of route then
//! decides: the `/_mock` routes want a member, GitLab's project routes
//! answer as GitLab would for the others, and the trigger leaves the choice
//! to the domain, because a trigger token can stand in for credentials.

use std::sync::Arc;

use warp::http::Method;
use warp::{Filter, Rejection};

use super::Settings;
use super::error::ApiError;

/// Who a request's credentials say it comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Caller {
    /// The mock's own token: a member of every project.
    Member,
    /// A token configured as belonging to a user outside every project.
    NonMember,
    /// A token the mock does not know.
    Stranger,
    /// No credentials at all.
    Anonymous,
}

/// Sorts the request by its credentials.
pub fn caller(
    settings: &Settings,
) -> impl Filter<Extract = (Caller,), Error = Rejection> + Clone + use<> {
    let settings = Arc::new(settings.clone());
    warp::header::optional::<String>("private-token")
        .and(warp::header::optional::<String>("authorization"))
        .map(
            move |private: Option<String>, authorization: Option<String>| {
                let bearer = authorization.as_deref().and_then(bearer_token);
                identify(&settings, private.as_deref().or(bearer))
            },
        )
}

fn identify(settings: &Settings, presented: Option<&str>) -> Caller {
    match presented {
        None => Caller::Anonymous,
        Some(token) if token == &*settings.token => Caller::Member,
        Some(token) if settings.non_member_tokens.iter().any(|t| t == token) => Caller::NonMember,
        Some(_) => Caller::Stranger,
    }
}

/// The credentials of an `Authorization: Bearer …` header; the scheme is
/// case-insensitive, as HTTP says.
fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, credentials) = authorization.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| credentials.trim())
}

/// Passes members only; everyone else gets 401. For the `/_mock` routes.
/// Placed after the path and method filters so a wrong route is still a
/// 404 or 405.
pub fn member(settings: &Settings) -> impl Filter<Extract = (), Error = Rejection> + Clone + use<> {
    caller(settings)
        .and_then(|caller: Caller| async move {
            match caller {
                Caller::Member => Ok(()),
                _ => Err(warp::reject::custom(ApiError::Unauthorized)),
            }
        })
        .untuple_one()
}

/// Passes members to a project route and answers the rest as GitLab
/// answers for a private project: a non-member is told the project does
/// not exist; without credentials, a read is a 404 when projects are
/// private (`--private-projects`) and a 401 otherwise, as the seed says; a
/// write, or an unknown token, is a 401.
pub fn project_member(
    settings: &Settings,
) -> impl Filter<Extract = (), Error = Rejection> + Clone + use<> {
    let private_projects = settings.private_projects;
    caller(settings)
        .and(warp::method())
        .and_then(move |caller: Caller, method: Method| async move {
            let hidden = ApiError::NotFound("404 Project Not Found");
            let refusal = match caller {
                Caller::Member => return Ok(()),
                Caller::NonMember => hidden,
                Caller::Anonymous if private_projects && method == Method::GET => hidden,
                Caller::Anonymous | Caller::Stranger => ApiError::Unauthorized,
            };
            Err(warp::reject::custom(refusal))
        })
        .untuple_one()
}
