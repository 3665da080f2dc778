//! `/_mock/scenarios`: presets and the create, update, delete rules.

use serde_json::json;

use super::support::TestMock;

/// A fresh database holds exactly the presets: 0, 1 to 99, 100, 200, 500,
/// all ending in success.
#[tokio::test]
async fn fresh_database_lists_the_presets() {
    let mock = TestMock::new();

    let answer = mock.get("/_mock/scenarios").await;

    let scenarios = answer.expect(200).as_array().unwrap();
    let ids: Vec<i64> = scenarios
        .iter()
        .map(|s| s["scenario_id"].as_i64().unwrap())
        .collect();
    let expected: Vec<i64> = std::iter::once(0)
        .chain(1..=99)
        .chain([100, 200, 500])
        .chain(1000..=1011)
        .collect();
    assert_eq!(ids, expected);
    assert!(
        scenarios[..103]
            .iter()
            .all(|s| s["terminal_status"] == "success")
    );
    assert_eq!(scenarios[0]["never_complete"], true);
    assert_eq!(scenarios[0]["terminal_after_seconds"], json!(null));
    assert_eq!(scenarios[100]["terminal_after_seconds"], 60);
    assert_eq!(scenarios[102]["name"], "after 5 minutes");
}

/// Create answers 201 with the stored scenario and fills defaults.
#[tokio::test]
async fn create_stores_a_scenario() {
    let mock = TestMock::new();

    let created = mock
        .json(
            "POST",
            "/_mock/scenarios",
            json!({"scenario_id": 900, "name": "x", "terminal_after_seconds": 600}),
        )
        .await;

    assert_eq!(
        created.expect(201),
        &json!({"scenario_id": 900, "name": "x", "terminal_after_seconds": 600,
                "terminal_status": "success", "never_complete": false,
                "phases": null, "reject": null})
    );
    let listed = mock.get("/_mock/scenarios").await;
    assert!(
        listed
            .expect(200)
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["scenario_id"] == 900)
    );
}

/// An id that exists is a 409.
#[tokio::test]
async fn create_with_a_taken_id_conflicts() {
    let mock = TestMock::new();

    let answer = mock
        .json(
            "POST",
            "/_mock/scenarios",
            json!({"scenario_id": 500, "name": "again", "terminal_after_seconds": 1}),
        )
        .await;

    answer.expect_message(409, "scenario_id 500 already exists");
}

/// Invalid scenarios are refused with a message naming the problem.
#[tokio::test]
async fn create_refuses_invalid_scenarios() {
    let mock = TestMock::new();
    let cases = [
        (
            json!({"name": "x", "terminal_after_seconds": 1}),
            "missing field `scenario_id`",
        ),
        (
            json!({"scenario_id": 901, "terminal_after_seconds": 1}),
            "missing field `name`",
        ),
        (
            json!({"scenario_id": 901, "name": " ", "terminal_after_seconds": 1}),
            "name must not be empty",
        ),
        (
            json!({"scenario_id": 901, "name": "x"}),
            "needs terminal_after_seconds",
        ),
        (
            json!({"scenario_id": -1, "name": "x", "terminal_after_seconds": 1}),
            "zero or more",
        ),
        (
            json!({"scenario_id": 901, "name": "x", "terminal_after_seconds": -5}),
            "between 0 and",
        ),
        (
            json!({"scenario_id": 901, "name": "x", "terminal_after_seconds": "5"}),
            "invalid type",
        ),
        (
            json!({"scenario_id": 901, "name": "x", "never_complete": true,
                   "terminal_status": "done"}),
            "unknown variant",
        ),
        (
            json!({"scenario_id": 901, "name": "x", "terminal_after_second": 5}),
            "unknown field",
        ),
    ];

    for (body, expected) in cases {
        mock.json("POST", "/_mock/scenarios", body)
            .await
            .expect_error_mentioning(422, expected);
    }
}

/// Update changes only the fields sent; `null` clears the duration, which
/// is only valid for a never-completing scenario.
#[tokio::test]
async fn update_changes_only_the_given_fields() {
    let mock = TestMock::new();

    let renamed = mock
        .json(
            "PUT",
            "/_mock/scenarios/42",
            json!({"name": "renamed", "terminal_status": "canceled"}),
        )
        .await;
    let cleared = mock
        .json(
            "PUT",
            "/_mock/scenarios/42",
            json!({"terminal_after_seconds": null}),
        )
        .await;
    let never = mock
        .json(
            "PUT",
            "/_mock/scenarios/42",
            json!({"terminal_after_seconds": null, "never_complete": true}),
        )
        .await;

    assert_eq!(
        renamed.expect(200),
        &json!({"scenario_id": 42, "name": "renamed", "terminal_after_seconds": 42,
                "terminal_status": "canceled", "never_complete": false,
                "phases": null, "reject": null})
    );
    cleared.expect_error_mentioning(422, "needs terminal_after_seconds");
    assert_eq!(never.expect(200)["never_complete"], true);
    assert_eq!(never.body["terminal_after_seconds"], json!(null));
}

/// Updating or deleting an id that does not exist is a 404.
#[tokio::test]
async fn unknown_scenarios_are_404() {
    let mock = TestMock::new();

    mock.json("PUT", "/_mock/scenarios/7777", json!({"name": "x"}))
        .await
        .expect_message(404, "404 Scenario Not Found");
    mock.delete("/_mock/scenarios/7777")
        .await
        .expect_message(404, "404 Scenario Not Found");
    assert_eq!(
        mock.delete("/_mock/scenarios/seven").await.expect(400)["error"],
        "scenario_id is invalid"
    );
}

/// A body that is not an object, or a field sent as `null` that cannot be
/// cleared, is refused rather than half-read.
#[tokio::test]
async fn update_refuses_arrays_and_nulls() {
    let mock = TestMock::new();

    let array = mock
        .json(
            "POST",
            "/_mock/scenarios",
            json!([901, "x", 5, "failed", false]),
        )
        .await;
    let null_name = mock
        .json("PUT", "/_mock/scenarios/42", json!({"name": null}))
        .await;
    let null_status = mock
        .json(
            "PUT",
            "/_mock/scenarios/42",
            json!({"terminal_status": null}),
        )
        .await;

    array.expect_error_mentioning(422, "must be a JSON object");
    null_name.expect_error_mentioning(422, "invalid type: null");
    null_status.expect(422);
    assert_eq!(
        mock.get("/_mock/scenarios").await.body[42]["name"],
        "after 42 seconds"
    );
}

/// Delete answers 204 with no body; the preset is then gone.
#[tokio::test]
async fn delete_removes_a_preset() {
    let mock = TestMock::new();

    let deleted = mock.delete("/_mock/scenarios/500").await;
    let again = mock.delete("/_mock/scenarios/500").await;
    let trigger = mock
        .trigger(json!({"token": "T", "ref": "m", "scenario_id": 500}))
        .await;

    deleted.expect(204);
    assert!(deleted.raw.is_empty());
    again.expect(404);
    trigger.expect_error_mentioning(422, "scenario_id 500 does not exist");
}
