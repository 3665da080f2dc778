//! Property: `GET /projects/:id/pipelines` filtered or sorted by what the
//! clock decides (status, scope, `updated_at`) lists exactly what polling
//! each pipeline shows, whether the pipeline has settled (served by the
//! store's index) or is still moving (observed at the instant), and pages
//! through them without losing or repeating one.

use proptest::prelude::*;
use serde_json::{Value, json};

use super::support::TestMock;

/// Scenarios that settle early, late, never, by a cancel, or not at all.
const SCENARIOS: [i64; 12] = [
    0, 3, 30, 1000, 1001, 1002, 1003, 1004, 1005, 1006, 1009, 1011,
];

/// A pipeline to make: its scenario, the seconds to advance before it, and
/// whether to cancel it right after.
type Step = (i64, u32, bool);

fn step() -> impl Strategy<Value = Step> {
    (
        proptest::sample::select(SCENARIOS.to_vec()),
        0u32..40,
        any::<bool>(),
    )
}

/// A listing to compare: its query, and which pipelines it should hold,
/// in order, given every pipeline as a poll shows it.
struct Case {
    query: String,
    expected: Vec<i64>,
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(40))]

    #[test]
    fn clock_dependent_listings_agree_with_polls(
        steps in proptest::collection::vec(step(), 1..14),
        wait in 0u32..120,
        per_page in 1u32..5,
    ) {
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        runtime.block_on(check_listings(steps, wait, per_page))?;
    }
}

async fn check_listings(steps: Vec<Step>, wait: u32, per_page: u32) -> Result<(), TestCaseError> {
    let mock = TestMock::new();
    for (scenario, before, cancel) in steps {
        mock.advance(f64::from(before)).await;
        let fields = json!({"token": "T", "ref": "main", "scenario_id": scenario});
        let id = mock.trigger(fields).await.expect(201)["id"].clone();
        if cancel {
            let path = format!("/projects/123/pipelines/{id}/cancel");
            mock.json("POST", &path, json!({})).await.expect(200);
        }
    }
    mock.advance(f64::from(wait)).await;

    let polled = poll_all(&mock).await;
    for case in cases(&polled) {
        let listed = list_every_page(&mock, &case.query, per_page).await;
        prop_assert_eq!(listed, case.expected, "{}", case.query);
    }
    Ok(())
}

/// Every pipeline of project 123 as a single GET shows it now.
async fn poll_all(mock: &TestMock) -> Vec<Value> {
    let everything = mock.get("/_mock/pipelines?per_page=100").await;
    let mut polled = Vec::new();
    for pipeline in everything.expect(200).as_array().unwrap() {
        let path = format!("/projects/123/pipelines/{}", pipeline["id"]);
        polled.push(mock.get(&path).await.expect(200).clone());
    }
    polled
}

fn cases(polled: &[Value]) -> Vec<Case> {
    let status = |p: &Value| p["status"].as_str().unwrap().to_owned();
    let updated = |p: &Value| p["updated_at"].as_str().unwrap().to_owned();
    let id = |p: &Value| p["id"].as_i64().unwrap();
    let newest_first = |mut pipelines: Vec<&Value>| {
        pipelines.sort_by_key(|p| std::cmp::Reverse(id(p)));
        pipelines.into_iter().map(id).collect::<Vec<_>>()
    };
    let with_status = |wanted: &[&str]| {
        newest_first(
            polled
                .iter()
                .filter(|p| wanted.contains(&status(p).as_str()))
                .collect(),
        )
    };
    // The median `updated_at`, so the filters split the set.
    let mut instants: Vec<String> = polled.iter().map(updated).collect();
    instants.sort();
    let middle = instants[instants.len() / 2].clone();

    let mut by_updated: Vec<&Value> = polled.iter().collect();
    by_updated.sort_by_key(|p| (updated(p), id(p)));
    let mut by_status: Vec<&Value> = polled.iter().collect();
    by_status.sort_by_key(|p| (status(p), id(p)));

    let mut cases = Vec::new();
    for wanted in [
        "running", "pending", "created", "success", "failed", "canceled", "manual",
    ] {
        cases.push(Case {
            query: format!("status={wanted}"),
            expected: with_status(&[wanted]),
        });
    }
    cases.extend([
        Case {
            query: "scope=finished".into(),
            expected: with_status(&["success", "failed", "canceled"]),
        },
        Case {
            query: "scope=running".into(),
            expected: with_status(&["running"]),
        },
        Case {
            query: "scope=finished&status=running".into(),
            expected: vec![],
        },
        Case {
            query: format!("updated_after={middle}"),
            expected: newest_first(polled.iter().filter(|p| updated(p) > middle).collect()),
        },
        Case {
            query: format!("updated_before={middle}"),
            expected: newest_first(polled.iter().filter(|p| updated(p) < middle).collect()),
        },
        Case {
            query: "order_by=updated_at&sort=asc".into(),
            expected: by_updated.iter().map(|p| id(p)).collect(),
        },
        Case {
            query: "order_by=updated_at".into(),
            expected: by_updated.iter().rev().map(|p| id(p)).collect(),
        },
        Case {
            query: "order_by=status&sort=asc".into(),
            expected: by_status.iter().map(|p| id(p)).collect(),
        },
        Case {
            query: "".into(),
            expected: newest_first(polled.iter().collect()),
        },
    ]);
    cases
}

/// The ids a listing holds, page by page, checking the paging headers.
async fn list_every_page(mock: &TestMock, query: &str, per_page: u32) -> Vec<i64> {
    let mut ids = Vec::new();
    for page in 1.. {
        let path = format!("/projects/123/pipelines?{query}&per_page={per_page}&page={page}");
        let answer = mock.get(&path).await;
        let items = answer.expect(200).as_array().unwrap().clone();
        ids.extend(items.iter().map(|p| p["id"].as_i64().unwrap()));

        let total: usize = header(&answer.headers, "x-total").parse().unwrap();
        let next = header(&answer.headers, "x-next-page");
        if next.is_empty() {
            assert_eq!(
                ids.len(),
                total,
                "{query}: X-Total disagrees with the pages"
            );
            return ids;
        }
        assert_eq!(next, (page + 1).to_string(), "{query}");
        assert_eq!(
            items.len(),
            per_page as usize,
            "{query}: a short page before the end"
        );
    }
    unreachable!("pages never end")
}

fn header(headers: &warp::http::HeaderMap, name: &str) -> String {
    let value = headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name} header"));
    value.to_str().unwrap().to_owned()
}
