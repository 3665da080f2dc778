//! The mock's user and projects, as GitLab prints them.

use serde::Serialize;
use serde_json::{Value, json};

use crate::mock::MOCK_USERNAME;
use crate::model::Project;

use crate::json::JsonObject;

/// When the mock's user and projects claim to have been created: a fixed
/// instant, so answers do not depend on when the mock started.
const CREATED_AT: &str = "2026-01-01T00:00:00.000Z";

/// The state every user of the mock is in.
const ACTIVE: &str = "active";

/// Where a user's avatar is, around the user's id.
const AVATARS: &str = "/uploads/-/system/user/avatar/";
const AVATAR_FILE: &str = "/avatar.png";

/// GitLab's UserBasic: who every pipeline is attributed to.
#[derive(Debug, Clone, Serialize)]
pub struct UserView {
    pub id: i64,
    pub username: &'static str,
    pub name: &'static str,
    pub state: &'static str,
    pub locked: bool,
    pub avatar_url: String,
    pub web_url: String,
}

/// The mock user's id and name; its username is [`MOCK_USERNAME`].
const MOCK_ID: i64 = 1;
const MOCK_NAME: &str = "Mock User";

impl UserView {
    /// The member every pipeline is attributed to.
    pub fn mock(base_url: &str) -> Self {
        Self::new(MOCK_ID, MOCK_USERNAME, MOCK_NAME, base_url)
    }

    /// [`UserView::mock`], written straight into `object` (see
    /// [`super::json`]) and closed.
    pub(super) fn write_mock(mut object: JsonObject<'_>, base_url: &str) {
        let id = itoa::Buffer::new().format(MOCK_ID).to_owned();
        object.int("id", MOCK_ID);
        object.str("username", MOCK_USERNAME);
        object.str("name", MOCK_NAME);
        object.str("state", ACTIVE);
        object.bool("locked", false);
        object.str_of("avatar_url", &[base_url, AVATARS, &id, AVATAR_FILE]);
        object.str_of("web_url", &[base_url, "/", MOCK_USERNAME]);
        object.close();
    }

    /// The user behind a non-member token.
    pub fn outsider(base_url: &str) -> Self {
        Self::new(2, "outsider", "Outside User", base_url)
    }

    fn new(id: i64, username: &'static str, name: &'static str, base_url: &str) -> Self {
        Self {
            id,
            username,
            name,
            state: ACTIVE,
            locked: false,
            avatar_url: [base_url, AVATARS, &id.to_string(), AVATAR_FILE].concat(),
            web_url: [base_url, "/", username].concat(),
        }
    }
}

/// `GET /user`: the signed-in user with the fields typed clients require.
pub struct PublicUserView;

impl PublicUserView {
    pub fn render(user: &UserView) -> Value {
        let mut value = serde_json::to_value(user).unwrap_or(Value::Null);
        let extra = json!({
            "created_at": CREATED_AT,
            "bio": "",
            "location": null,
            "public_email": null,
            "skype": "",
            "linkedin": "",
            "twitter": "",
            "discord": "",
            "website_url": "",
            "organization": null,
            "job_title": "",
            "bot": false,
            "last_sign_in_at": CREATED_AT,
            "confirmed_at": CREATED_AT,
            "last_activity_on": "2026-01-01",
            "email": format!("{}@example.com", user.username),
            "theme_id": 1,
            "color_scheme_id": 1,
            "projects_limit": 100000,
            "current_sign_in_at": CREATED_AT,
            "identities": [],
            "can_create_group": true,
            "can_create_project": true,
            "two_factor_enabled": false,
            "external": false,
            "private_profile": false,
            "commit_email": format!("{}@example.com", user.username),
            "is_admin": false,
        });
        if let (Value::Object(fields), Value::Object(extra)) = (&mut value, extra) {
            fields.extend(extra);
        }
        value
    }
}

/// `GET /projects/:id`.
pub struct ProjectView;

impl ProjectView {
    pub fn render(project: &Project, base_url: &str) -> Value {
        let web_url = format!("{base_url}/{}", project.path);
        let host = host_of(base_url);
        let namespace = project.namespace();
        json!({
            "id": project.id,
            "description": null,
            "name": project.name(),
            "name_with_namespace": project.path.replace('/', " / "),
            "path": project.name(),
            "path_with_namespace": project.path,
            "created_at": CREATED_AT,
            "default_branch": project.default_branch,
            "tag_list": [],
            "topics": [],
            "ssh_url_to_repo": format!("git@{host}:{}.git", project.path),
            "http_url_to_repo": format!("{web_url}.git"),
            "web_url": web_url,
            "readme_url": null,
            "avatar_url": null,
            "forks_count": 0,
            "star_count": 0,
            "last_activity_at": CREATED_AT,
            "namespace": {
                "id": 1,
                "name": namespace.rsplit('/').next().unwrap_or(namespace),
                "path": namespace.rsplit('/').next().unwrap_or(namespace),
                "kind": "group",
                "full_path": namespace,
                "parent_id": null,
                "avatar_url": null,
                "web_url": format!("{base_url}/groups/{namespace}"),
            },
            "visibility": "private",
            "empty_repo": false,
            "archived": false,
        })
    }
}

/// The host of a base URL, without scheme, port or path: what an SSH
/// clone URL names.
pub(super) fn host_of(base_url: &str) -> &str {
    let authority = base_url
        .trim_start_matches("http://")
        .trim_start_matches("https://");
    let authority = authority.split('/').next().unwrap_or(authority);
    authority
        .rsplit_once(':')
        .map_or(authority, |(host, _)| host)
}
