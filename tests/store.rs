//! The store's guarantees under races it cannot see (a scenario deleted, or
//! the database reset, between a caller's checks and its write), and the
//! bounds of its listings.

use jiff::Timestamp;

use gitlab_mock::lifecycle::{InitialStatus, Timeline};
use gitlab_mock::model::{NewPipeline, Project, RuleMatch, Source, Variable, VariableType};
use gitlab_mock::presets::presets;
use gitlab_mock::status::PipelineStatus;
use gitlab_mock::store::{
    COUNT_LIMIT, PipelineQuery, ProjectListing, SettledFilter, Store, TriggerAccess,
};

fn new_pipeline(scenario_id: Option<i64>) -> NewPipeline {
    NewPipeline {
        project_id: 1,
        git_ref: "main".into(),
        sha: "0".repeat(40),
        source: Source::Trigger,
        variables: Vec::new(),
        scenario_id,
        timeline: Timeline::seed(Some(5), PipelineStatus::Success, InitialStatus::Running),
        created_at: "2026-12-03T10:00:00Z".parse::<Timestamp>().unwrap(),
    }
}

/// A pipeline naming a scenario that was deleted meanwhile is stored
/// without it, keeping its timeline, instead of failing the write.
#[tokio::test]
async fn a_vanished_scenario_is_dropped_not_fatal() {
    let store = Store::open(":memory:").unwrap();
    store.delete_scenario(5).unwrap();

    let stored = store
        .insert_pipeline(new_pipeline(Some(5)), store.generation())
        .await
        .unwrap();

    let stored = stored.expect("written");
    assert_eq!(stored.scenario_id, None);
    assert_eq!(
        store
            .pipeline_with_project(stored.id)
            .unwrap()
            .unwrap()
            .0
            .run
            .timeline
            .total_seconds(),
        Some(5)
    );
}

/// Pipelines written together, as the group commit writes a flood, get
/// consecutive ids and iids in one project, and the one naming a scenario
/// that was deleted loses only its own `scenario_id`.
#[tokio::test]
async fn a_flood_is_numbered_in_order_and_a_vanished_scenario_stays_alone() {
    let store = Store::open(":memory:").unwrap();
    store.delete_scenario(5).unwrap();

    let inserts = (0..100).map(|n| {
        let scenario = if n == 57 { Some(5) } else { Some(1) };
        store.insert_pipeline(new_pipeline(scenario), store.generation())
    });
    let stored: Vec<_> = futures_util::future::join_all(inserts)
        .await
        .into_iter()
        .map(|stored| stored.unwrap().expect("written"))
        .collect();

    let mut ids: Vec<i64> = stored.iter().map(|pipeline| pipeline.id).collect();
    let mut iids: Vec<i64> = stored.iter().map(|pipeline| pipeline.iid).collect();
    ids.sort_unstable();
    iids.sort_unstable();
    assert_eq!(ids, (1..=100).collect::<Vec<_>>());
    assert_eq!(iids, (1..=100).collect::<Vec<_>>());
    let orphans: Vec<i64> = stored
        .iter()
        .filter(|pipeline| pipeline.scenario_id.is_none())
        .map(|pipeline| pipeline.id)
        .collect();
    assert_eq!(
        orphans.len(),
        1,
        "only the pipeline naming scenario 5 lost it"
    );
    for pipeline in &stored {
        let (read, _) = store.pipeline_with_project(pipeline.id).unwrap().unwrap();
        assert_eq!(read.scenario_id, pipeline.scenario_id);
        assert_eq!(read.iid, pipeline.iid);
    }
}

/// A commit far larger than one gathered WAL write (300 pipelines of
/// 1.5 KiB variables, over a hundred pages) is on disk whole: every
/// pipeline reads back the same from a fresh open of the file.
#[tokio::test]
async fn a_large_batch_reads_back_whole_after_reopening() {
    let scratch = ScratchDb::new("large-batch");
    let with_variables = |n: usize| NewPipeline {
        variables: vec![Variable {
            key: format!("LARGE_{n}"),
            value: format!("{n}:").repeat(1536 / (n.to_string().len() + 1)),
            variable_type: VariableType::EnvVar,
        }],
        ..new_pipeline(None)
    };
    let written: Vec<_> = {
        let store = Store::open(&scratch.path()).unwrap();
        let inserts = (0..300).map(|n| store.insert_pipeline(with_variables(n), 0));
        futures_util::future::join_all(inserts).await
    };

    let store = Store::open(&scratch.path()).unwrap();
    for pipeline in written {
        let pipeline = pipeline.unwrap().expect("written");
        let (read, _) = store.pipeline_with_project(pipeline.id).unwrap().unwrap();
        assert_eq!(read.variables, pipeline.variables);
        assert_eq!(read.iid, pipeline.iid);
    }
}

/// The id of the newest pipeline, once deleted, is not handed out again.
#[tokio::test]
async fn a_deleted_pipelines_id_is_not_reused() {
    let store = Store::open(":memory:").unwrap();
    let first = store
        .insert_pipeline(new_pipeline(None), 0)
        .await
        .unwrap()
        .unwrap();
    let second = store
        .insert_pipeline(new_pipeline(None), 0)
        .await
        .unwrap()
        .unwrap();

    assert!(store.delete_pipeline(second.id).unwrap());
    let third = store
        .insert_pipeline(new_pipeline(None), 0)
        .await
        .unwrap()
        .unwrap();

    assert_eq!((first.id, second.id, third.id), (1, 2, 3));
    assert_eq!(third.iid, 3);
}

/// A write prepared before a reset is refused, so the caller reads the
/// (reset) clock again.
#[tokio::test]
async fn a_reset_in_between_refuses_the_write() {
    let store = Store::open(":memory:").unwrap();
    let before = store.generation();

    store.reset(&presets()).unwrap();
    let stale = store
        .insert_pipeline(new_pipeline(None), before)
        .await
        .unwrap();
    let fresh = store
        .insert_pipeline(new_pipeline(None), store.generation())
        .await
        .unwrap();

    assert!(stale.is_none());
    assert_eq!(fresh.map(|pipeline| pipeline.id), Some(1));
}

/// A rule naming a scenario that does not exist is not stored.
#[test]
fn a_rule_needs_its_scenario() {
    let store = Store::open(":memory:").unwrap();

    let missing = store.insert_rule(RuleMatch::default(), 4242, None).unwrap();
    let present = store
        .insert_rule(RuleMatch::default(), 500, Some(1))
        .unwrap();

    assert!(missing.is_none());
    assert_eq!(present.map(|rule| rule.scenario_id), Some(500));
    assert_eq!(store.rules().unwrap().len(), 1);
}

/// A rule is found however it came and stops being found however it went:
/// deleted, taken away with its scenario, or cleared by a reset. (A trigger
/// skips the rules table while none is stored, so each of these must keep
/// that knowledge right.)
#[test]
fn rules_are_claimed_only_while_stored() {
    let store = Store::open(":memory:").unwrap();
    let claim = |store: &Store| store.claim_rule(1, "main", "T", &[]).unwrap();
    assert!(claim(&store).is_none());

    let first = store
        .insert_rule(RuleMatch::default(), 500, None)
        .unwrap()
        .unwrap();
    assert_eq!(claim(&store).map(|rule| rule.id), Some(first.id));
    assert!(store.delete_rule(first.id).unwrap());
    assert!(claim(&store).is_none());

    store
        .insert_rule(RuleMatch::default(), 500, None)
        .unwrap()
        .unwrap();
    assert!(store.delete_scenario(500).unwrap());
    assert!(
        store.rules().unwrap().is_empty(),
        "the rule went with its scenario"
    );
    assert!(claim(&store).is_none());

    let kept = store
        .insert_rule(RuleMatch::default(), 1000, None)
        .unwrap()
        .unwrap();
    store
        .insert_rule(RuleMatch::default(), 1001, None)
        .unwrap()
        .unwrap();
    assert!(store.delete_scenario(1001).unwrap());
    assert_eq!(
        claim(&store).map(|rule| rule.id),
        Some(kept.id),
        "one rule is left"
    );

    store.reset(&presets()).unwrap();
    assert!(claim(&store).is_none());
}

/// A rule stored in the file is claimed after the store is opened again.
#[test]
fn a_stored_rule_is_claimed_after_reopening() {
    let scratch = ScratchDb::new("rules");
    let rule = {
        let store = Store::open(&scratch.path()).unwrap();
        store
            .insert_rule(RuleMatch::default(), 500, None)
            .unwrap()
            .unwrap()
    };

    let store = Store::open(&scratch.path()).unwrap();

    let claimed = store.claim_rule(1, "main", "T", &[]).unwrap();
    assert_eq!(claimed.map(|claimed| claimed.id), Some(rule.id));
}

/// Stores `count` pipelines in project 1, many at a time so the group
/// commit takes them in large batches.
async fn fill(store: &Store, count: u64) {
    let mut writers = tokio::task::JoinSet::new();
    for _ in 0..count {
        let store = store.clone();
        writers.spawn(async move {
            let generation = store.generation();
            store.insert_pipeline(new_pipeline(None), generation).await
        });
    }
    while let Some(written) = writers.join_next().await {
        assert!(written.unwrap().unwrap().is_some());
    }
}

/// Like GitLab, a listing counts up to ten thousand matches and no
/// further: exactly ten thousand is a total, one more is "unknown", and
/// the page still says whether another follows.
#[tokio::test]
async fn listings_stop_counting_past_ten_thousand() {
    let store = Store::open(":memory:").unwrap();
    let query = |page| PipelineQuery {
        project_id: Some(1),
        page,
        per_page: 100,
    };
    fill(&store, COUNT_LIMIT).await;

    let counted = store.pipelines(&query(1)).unwrap();
    assert_eq!(counted.total, Some(COUNT_LIMIT));
    assert!(counted.more);
    assert_eq!(
        counted.items.first().map(|p| p.id),
        Some(10_000),
        "newest first"
    );
    let last = store.pipelines(&query(100)).unwrap();
    assert!(!last.more);
    assert_eq!(last.items.last().map(|p| p.id), Some(1));

    fill(&store, 1).await;
    let uncounted = store.pipelines(&query(1)).unwrap();
    assert_eq!(uncounted.total, None);
    assert!(uncounted.more);
    assert_eq!(uncounted.items.len(), 100);
    let beyond = store.pipelines(&query(101)).unwrap();
    assert_eq!(beyond.items.iter().map(|p| p.id).collect::<Vec<_>>(), [1]);
    assert!(!beyond.more);
}

/// A database written before pipelines carried their settling instant gets
/// it computed on the next start, so status filters see its old pipelines.
#[tokio::test]
async fn the_settlement_migration_fills_old_rows() {
    let dir = std::env::temp_dir().join(format!("gitlab-mock-migration-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("old.db");
    let path = path.to_str().unwrap();
    {
        let store = Store::open(path).unwrap();
        fill(&store, 3).await;
    }
    let old = rusqlite::Connection::open(path).unwrap();
    old.execute_batch(
        "DROP INDEX pipelines_by_settling; DROP INDEX pipelines_by_settled_status;
         DROP INDEX pipelines_by_status_settling;
         ALTER TABLE pipelines DROP COLUMN settled_ms;
         ALTER TABLE pipelines DROP COLUMN settled_status;
         CREATE INDEX pipelines_by_project_iid ON pipelines(project_id, iid);
         DROP TABLE hooks;
         PRAGMA user_version = 2;",
    )
    .unwrap();
    drop(old);

    let store = Store::open(path).unwrap();
    let created: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
    let listing = ProjectListing {
        project_id: 1,
        ..ProjectListing::default()
    };
    let succeeded = |now: Timestamp| SettledFilter {
        now,
        statuses: Some(vec![PipelineStatus::Success]),
        ..SettledFilter::default()
    };
    let at_five = created + jiff::SignedDuration::from_secs(5);
    let early = store.project_listing(&listing, &succeeded(created), 0, 10, |_| true);
    let settled = store.project_listing(&listing, &succeeded(at_five), 0, 10, |_| true);

    let early = early.unwrap();
    assert_eq!((early.settled.count, early.moving.len()), (0, 3));
    let settled = settled.unwrap();
    assert_eq!(settled.settled.count, 3, "each succeeds after 5 s");
    assert!(settled.moving.is_empty());
    drop(store);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A scratch directory for a database file, removed when dropped.
struct ScratchDb(std::path::PathBuf);

impl ScratchDb {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("gitlab-mock-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self) -> String {
        self.0.join("mock.db").to_str().unwrap().to_owned()
    }
}

impl Drop for ScratchDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn project(id: i64, path: &str) -> Project {
    Project {
        id,
        path: path.into(),
        default_branch: "main".into(),
    }
}

fn access(token_project: Option<i64>, project_has_tokens: bool) -> TriggerAccess {
    TriggerAccess {
        token_project,
        project_has_tokens,
    }
}

/// Projects and trigger tokens, which triggers read from memory, follow
/// every write to them: a project put over another's id or path, a path
/// registered on first use, a token created and deleted, a reset.
#[test]
fn projects_and_tokens_follow_their_writes() {
    let store = Store::open(":memory:").unwrap();
    let created: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
    store.put_project(&project(7, "team/app")).unwrap();
    store.put_project(&project(8, "team/app")).unwrap();
    let token = store
        .insert_trigger_token(8, "glptt-a", "", created)
        .unwrap()
        .unwrap();
    store
        .insert_trigger_token(8, "glptt-b", "", created)
        .unwrap();

    assert_eq!(store.project_by_id(7).unwrap(), Project::implicit(7));
    assert_eq!(store.project_by_path("team/app").unwrap().unwrap().id, 8);
    assert_eq!(store.trigger_access(8, "glptt-a"), access(Some(8), true));
    assert_eq!(store.trigger_access(7, "glptt-a"), access(Some(8), false));
    assert!(store.delete_trigger_token(8, token.id).unwrap());
    assert_eq!(store.trigger_access(8, "glptt-a"), access(None, true));
    let registered = store.project_by_path("team/new").unwrap().unwrap();
    assert_eq!(registered.id, 9);
    assert_eq!(store.project_by_id(9).unwrap(), registered);

    store.reset(&presets()).unwrap();
    assert_eq!(store.trigger_access(8, "glptt-b"), access(None, false));
    assert_eq!(store.project_by_id(8).unwrap(), Project::implicit(8));
    assert_eq!(store.project_by_path("team/new").unwrap().unwrap().id, 1);
}

/// A store opened on an existing file knows the projects and trigger
/// tokens written before.
#[test]
fn projects_and_tokens_are_read_back_on_open() {
    let scratch = ScratchDb::new("directory");
    let created: Timestamp = "2026-12-03T10:00:00Z".parse().unwrap();
    {
        let store = Store::open(&scratch.path()).unwrap();
        store.put_project(&project(42, "team/app")).unwrap();
        store
            .insert_trigger_token(42, "glptt-a", "", created)
            .unwrap();
    }

    let store = Store::open(&scratch.path()).unwrap();

    assert_eq!(store.project_by_id(42).unwrap(), project(42, "team/app"));
    assert_eq!(store.project_by_path("team/app").unwrap().unwrap().id, 42);
    assert_eq!(store.trigger_access(42, "glptt-a"), access(Some(42), true));
}

/// A database from before migration 4, with the full index on
/// `scenario_id`, migrates to the partial one, which deleting a scenario
/// then searches instead of scanning every pipeline.
#[tokio::test]
async fn deleting_a_scenario_searches_the_partial_index() {
    let scratch = ScratchDb::new("partial-index");
    let named = {
        let store = Store::open(&scratch.path()).unwrap();
        fill(&store, 3).await;
        let generation = store.generation();
        let named = store.insert_pipeline(new_pipeline(Some(5)), generation);
        named.await.unwrap().unwrap().id
    };
    let old = rusqlite::Connection::open(scratch.path()).unwrap();
    old.execute_batch(
        "DROP TABLE hooks;
         DROP INDEX pipelines_by_scenario;
         CREATE INDEX pipelines_by_scenario ON pipelines(scenario_id);
         PRAGMA user_version = 3;",
    )
    .unwrap();
    drop(old);

    let store = Store::open(&scratch.path()).unwrap();
    let reader = rusqlite::Connection::open(scratch.path()).unwrap();
    let plan: String = reader
        .query_row(
            "EXPLAIN QUERY PLAN UPDATE pipelines SET scenario_id = NULL WHERE scenario_id = 5",
            [],
            |row| row.get(3),
        )
        .unwrap();
    let partial: String = reader
        .query_row(
            "SELECT sql FROM sqlite_master WHERE name = 'pipelines_by_scenario'",
            [],
            |row| row.get(0),
        )
        .unwrap();
    assert!(store.delete_scenario(5).unwrap());

    assert!(plan.contains("INDEX pipelines_by_scenario"), "{plan}");
    assert!(
        partial.ends_with("WHERE scenario_id IS NOT NULL"),
        "{partial}"
    );
    let (pipeline, _) = store.pipeline_with_project(named).unwrap().unwrap();
    assert_eq!(pipeline.scenario_id, None);
}

/// A pipeline written before typed variables existed, with only the seed's
/// map of variables, reads back with them as env variables.
#[tokio::test]
async fn variables_of_seed_rows_are_read_from_the_map() {
    let scratch = ScratchDb::new("seed-variables");
    {
        let store = Store::open(&scratch.path()).unwrap();
        fill(&store, 1).await;
    }
    let old = rusqlite::Connection::open(scratch.path()).unwrap();
    old.execute_batch(
        r#"UPDATE pipelines SET variables_typed_json = NULL, variables_json = '{"A":"1"}'"#,
    )
    .unwrap();
    drop(old);

    let store = Store::open(&scratch.path()).unwrap();
    let (pipeline, _) = store.pipeline_with_project(1).unwrap().unwrap();

    assert_eq!(pipeline.variable_map(), [("A", "1")].into_iter().collect());
    assert_eq!(pipeline.variables[0].variable_type, VariableType::EnvVar);
}
