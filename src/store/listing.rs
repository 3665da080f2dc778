//! Listings of pipelines, one page at a time, with work bounded by the page
//! rather than by what the store holds.
//!
//! A pipeline's status and `updated_at` depend on the clock, so they cannot
//! be stored as such. What can be stored is where each run comes to rest
//! (`settled_ms`, `settled_status`, see [`crate::lifecycle::settlement`]):
//! once that instant has passed, the pipeline's status and `updated_at` are
//! those two columns for good. A listing that filters or sorts by status or
//! `updated_at` therefore asks SQL, through indexes, for the settled
//! pipelines, and reads separately the few still moving at that instant,
//! which the caller observes and merges. A listing that filters and sorts
//! on fixed columns only is one indexed query.
//!
//! Counts stop at [`COUNT_LIMIT`], as GitLab's do: past ten thousand
//! matches GitLab leaves out `X-Total` rather than count them all.

use std::borrow::Cow;

use jiff::Timestamp;
use rusqlite::types::Value;
use rusqlite::{Connection, params_from_iter};

use crate::model::Pipeline;
use crate::status::PipelineStatus;

use super::pipelines::{COLUMNS, SUMMARY_COLUMNS, read_pipeline};
use super::{Store, StoreError, timestamp_text};

/// The most matches a listing counts; above it the total is unknown.
pub const COUNT_LIMIT: u64 = 10_000;

/// Which pipelines `/_mock/pipelines` wants, one page at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PipelineQuery {
    pub project_id: Option<i64>,
    /// 1-based page number.
    pub page: u32,
    pub per_page: u32,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    /// How many match in all; `None` when more than [`COUNT_LIMIT`] do.
    pub total: Option<u64>,
    /// Whether a later page has anything on it.
    pub more: bool,
}

impl<T> Page<T> {
    /// A listing that matches nothing.
    pub fn empty() -> Self {
        Self {
            items: Vec::new(),
            total: Some(0),
            more: false,
        }
    }
}

/// The fixed-column filters and the order of `GET /projects/:id/pipelines`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectListing {
    pub project_id: i64,
    pub git_ref: Option<String>,
    pub sha: Option<String>,
    pub source: Option<String>,
    pub created_before: Option<Timestamp>,
    pub created_after: Option<Timestamp>,
    /// GitLab's `scope=branches`: only the newest pipeline of each ref,
    /// chosen before any other filter looks.
    pub newest_per_ref: bool,
    pub order: SortKey,
    pub ascending: bool,
}

/// What a listing sorts by; ties always go by id in the same direction.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SortKey {
    #[default]
    Id,
    Ref,
    /// The status; only meaningful among settled pipelines.
    Status,
    /// `updated_at`; only meaningful among settled pipelines.
    UpdatedAt,
}

/// The clock-dependent part of a listing, applied to settled pipelines.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SettledFilter {
    /// The instant the listing is taken at.
    pub now: Timestamp,
    /// Only these statuses; `None` for any.
    pub statuses: Option<Vec<PipelineStatus>>,
    pub updated_before: Option<Timestamp>,
    pub updated_after: Option<Timestamp>,
}

/// The first pipelines of a listing in its order, and how many match in
/// all, up to one past [`COUNT_LIMIT`].
pub struct Counted {
    pub pipelines: Vec<Pipeline>,
    pub count: u64,
}

impl Store {
    /// A page of all pipelines, or one project's, newest first.
    pub fn pipelines(&self, query: &PipelineQuery) -> Result<Page<Pipeline>, StoreError> {
        let offset = u64::from(query.page.saturating_sub(1)) * u64::from(query.per_page);
        let per_page = u64::from(query.per_page);
        let mut sql = Sql::default();
        if let Some(project_id) = query.project_id {
            sql.require("project_id = ?", Value::Integer(project_id));
        }

        let conn = self.shared.reader.lock();
        let mut items = sql.select(&conn, COLUMNS, "id DESC", offset, per_page + 1)?;
        let count = sql.count(&conn)?;
        drop(conn);

        let more = items.len() as u64 > per_page;
        items.truncate(per_page as usize);
        Ok(Page {
            items,
            total: (count <= COUNT_LIMIT).then_some(count),
            more,
        })
    }

    /// `limit` pipelines of the listing in its order after the first
    /// `skip`, with the count of all that match, for a listing whose
    /// filters and order do not depend on the clock. SQLite skips the
    /// first rows itself, so a deep page costs time but not memory; rows
    /// and count come from one read transaction.
    pub fn project_pipelines(
        &self,
        listing: &ProjectListing,
        skip: u64,
        limit: u64,
    ) -> Result<Counted, StoreError> {
        let conn = self.shared.reader.lock();
        let snapshot = conn.unchecked_transaction()?;
        let sql = Sql::listing(listing);
        let pipelines = sql.select(&snapshot, SUMMARY_COLUMNS, &order_by(listing), skip, limit)?;
        let count = sql.count(&snapshot)?;
        Ok(Counted { pipelines, count })
    }

    /// What a listing that filters or sorts by the clock merges, read in
    /// one transaction so that a pipeline cannot settle between the two
    /// reads and be missed or listed twice: the pipelines still moving at
    /// `settled.now` that `keep` accepts, and the settled ones that pass
    /// `settled` from rank `skip` on, enough for the page after `offset`
    /// whatever the moving ones take of it (see [`ListingParts`]).
    pub fn project_listing(
        &self,
        listing: &ProjectListing,
        settled: &SettledFilter,
        offset: u64,
        per_page: u64,
        keep: impl FnMut(&Pipeline) -> bool,
    ) -> Result<ListingParts, StoreError> {
        let conn = self.shared.reader.lock();
        let snapshot = conn.unchecked_transaction()?;

        let mut moving = Sql::listing(listing);
        moving.require(
            "settled_ms > ?",
            Value::Integer(settled.now.as_millisecond()),
        );
        let mut moving = moving.select(&snapshot, SUMMARY_COLUMNS, "id DESC", 0, u64::MAX)?;
        moving.retain(keep);

        let skip = offset.saturating_sub(moving.len() as u64);
        let limit = offset + per_page + 1 - skip;
        let settled = settled_part(&snapshot, listing, settled, skip, limit)?;
        Ok(ListingParts {
            moving,
            settled,
            skip,
        })
    }
}

/// The two parts of a clock-dependent listing, to be merged in the
/// listing's order. At most `moving.len()` of the pipelines before the page
/// are moving ones, so the settled ones from rank `skip` on, merged with
/// every moving one, hold the whole page, starting at `offset - skip` of
/// the merged list; whatever merges in before that point stands in for
/// settled ones that were skipped.
pub struct ListingParts {
    pub moving: Vec<Pipeline>,
    pub settled: Counted,
    pub skip: u64,
}

/// The settled pipelines of a listing, `limit` after the first `skip`.
///
/// Several statuses from the start of the listing are one query per
/// status, each walking the status index in the listing's order: the
/// answer then holds the first `limit` of each, which the caller sorts and
/// cuts. Deeper in, they are one query that SQLite sorts, since the rows
/// to skip could come from any of the statuses.
fn settled_part(
    conn: &Connection,
    listing: &ProjectListing,
    settled: &SettledFilter,
    skip: u64,
    limit: u64,
) -> Result<Counted, StoreError> {
    let order = order_by(listing);
    let queries: Vec<Option<&[PipelineStatus]>> = match settled.statuses.as_deref() {
        Some(several) if several.len() > 1 && skip == 0 => several.chunks(1).map(Some).collect(),
        one_query => vec![one_query],
    };

    let mut counted = Counted {
        pipelines: Vec::new(),
        count: 0,
    };
    for statuses in queries {
        let mut sql = Sql::listing(listing);
        sql.settled(settled, statuses, listing.order);
        counted
            .pipelines
            .extend(sql.select(conn, SUMMARY_COLUMNS, &order, skip, limit)?);
        counted.count += sql.count(conn)?;
    }
    Ok(counted)
}

/// A `WHERE` clause built from the filters present, with its parameters.
/// Each shape of clause is its own cached statement, so SQLite plans every
/// shape with the index that suits it.
#[derive(Default)]
struct Sql {
    conditions: Vec<Cow<'static, str>>,
    values: Vec<Value>,
}

impl Sql {
    fn listing(listing: &ProjectListing) -> Self {
        let mut sql = Self::default();
        sql.require("project_id = ?", Value::Integer(listing.project_id));
        sql.optional("ref = ?", listing.git_ref.clone().map(Value::Text));
        sql.optional("sha = ?", listing.sha.clone().map(Value::Text));
        sql.optional("source = ?", listing.source.clone().map(Value::Text));
        sql.optional("created_at < ?", listing.created_before.map(text));
        sql.optional("created_at > ?", listing.created_after.map(text));
        if listing.newest_per_ref {
            sql.require(
                "id IN (SELECT MAX(id) FROM pipelines WHERE project_id = ? GROUP BY ref)",
                Value::Integer(listing.project_id),
            );
        }
        sql
    }

    /// Only pipelines settled by `settled.now`, in `status` if given.
    ///
    /// The settling instant is left out of index use (SQLite's unary `+`)
    /// unless the listing is sorted by it: then an index on it (after the
    /// status, when one is asked for) gives the order. Otherwise the status
    /// index, or the id index, is walked in the listing's order and the few
    /// rows still moving are skipped.
    fn settled(
        &mut self,
        settled: &SettledFilter,
        statuses: Option<&[PipelineStatus]>,
        by: SortKey,
    ) {
        let ms = |instant: Timestamp| Value::Integer(instant.as_millisecond());
        let indexed = by == SortKey::UpdatedAt;
        let [until, before, after] = match indexed {
            true => ["settled_ms <= ?", "settled_ms < ?", "settled_ms > ?"],
            false => ["+settled_ms <= ?", "+settled_ms < ?", "+settled_ms > ?"],
        };
        self.require(until, ms(settled.now));
        self.optional(before, settled.updated_before.map(ms));
        self.optional(after, settled.updated_after.map(ms));
        let Some(statuses) = statuses else { return };
        let condition = match statuses.len() {
            // An empty set matches nothing; `IN ()` is not valid SQL.
            0 => Cow::Borrowed("0"),
            1 => Cow::Borrowed("settled_status = ?"),
            n => Cow::Owned(format!("settled_status IN ({})", vec!["?"; n].join(", "))),
        };
        self.conditions.push(condition);
        let text = |status: &PipelineStatus| Value::Text(status.as_str().to_owned());
        self.values.extend(statuses.iter().map(text));
    }

    fn require(&mut self, condition: &'static str, value: Value) {
        self.conditions.push(Cow::Borrowed(condition));
        self.values.push(value);
    }

    fn optional(&mut self, condition: &'static str, value: Option<Value>) {
        if let Some(value) = value {
            self.require(condition, value);
        }
    }

    fn clause(&self) -> String {
        match self.conditions.is_empty() {
            true => "1".to_owned(),
            false => self.conditions.join(" AND "),
        }
    }

    fn select(
        &self,
        conn: &Connection,
        columns: &str,
        order: &str,
        skip: u64,
        limit: u64,
    ) -> Result<Vec<Pipeline>, StoreError> {
        let sql = format!(
            "SELECT {columns} FROM pipelines WHERE {} ORDER BY {order} LIMIT ? OFFSET ?",
            self.clause(),
        );
        let mut statement = conn.prepare_cached(&sql)?;
        let bound = |n: u64| Value::Integer(i64::try_from(n).unwrap_or(i64::MAX));
        let parameters = self
            .values
            .iter()
            .cloned()
            .chain([bound(limit), bound(skip)]);
        let rows = statement.query_map(params_from_iter(parameters), read_pipeline)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// How many rows match, counting no further than one past the limit.
    fn count(&self, conn: &Connection) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM pipelines WHERE {} LIMIT {})",
            self.clause(),
            COUNT_LIMIT + 1
        );
        let mut statement = conn.prepare_cached(&sql)?;
        let count: i64 = statement.query_row(params_from_iter(&self.values), |row| row.get(0))?;
        Ok(count.unsigned_abs())
    }
}

fn text(instant: Timestamp) -> Value {
    Value::Text(timestamp_text(instant))
}

/// `ORDER BY` for a listing; ties go by id in the same direction.
fn order_by(listing: &ProjectListing) -> String {
    let direction = match listing.ascending {
        true => "ASC",
        false => "DESC",
    };
    match listing.order {
        SortKey::Id => format!("id {direction}"),
        SortKey::Ref => format!("ref {direction}, id {direction}"),
        SortKey::Status => format!("settled_status {direction}, id {direction}"),
        SortKey::UpdatedAt => format!("settled_ms {direction}, id {direction}"),
    }
}
