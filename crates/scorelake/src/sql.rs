//! User SQL: a query's text checked for nesting the engine can plan, then
//! planned.
//!
//! DataFusion plans and optimizes a query by recursion over its syntax tree,
//! so a query nested thousands of levels deep (3,000 `UNION ALL` branches,
//! 20,000 `+` terms) would exhaust the thread's stack and abort the process.
//! [`query`] refuses such a query up front with an error saying how deep it
//! nests and how deep it may.

use std::ops::ControlFlow;

use datafusion::prelude::{DataFrame, SessionContext};
use datafusion::sql::parser::{CopyToSource, Statement};
use datafusion::sql::sqlparser::ast::{Expr, Query, SetExpr, Visit, Visitor};

use crate::error::{Error, Result, invalid};

/// The deepest nesting [`query`] accepts, counted separately for
/// expressions (`a + b + …` nests one level per operator) and for set
/// operations (`… UNION ALL …` nests one level per operator).
pub const MAX_NESTING: usize = 1000;

/// Plans the SQL `text` in `ctx`, as [`SessionContext::sql`] does, after
/// refusing a query that nests deeper than [`MAX_NESTING`].
///
/// ```
/// use scorelake::{config::Config, session::Session, sql};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let session = Session::new(Config::default())?;
/// let df = sql::query(session.ctx(), "SELECT 1 + 2 AS x").await?;
/// assert_eq!(df.collect().await?[0].num_rows(), 1);
/// let deep = format!("SELECT {} AS x", vec!["1"; 1500].join(" + "));
/// let err = sql::query(session.ctx(), &deep).await.unwrap_err();
/// assert!(err.to_string().contains("more than 1000 levels"), "{err}");
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub async fn query(ctx: &SessionContext, text: &str) -> Result<DataFrame> {
    let state = ctx.state();
    let dialect = state.config().options().sql_parser.dialect;
    // Parsing is flat, but walking and dropping a syntax tree recurse as
    // deep as it nests: a refused tree is checked and dropped on a thread
    // with room for it, whatever the caller's stack.
    let parsed: Result<Statement> = std::thread::scope(|scope| {
        std::thread::Builder::new()
            .name("scorelake-sql-parse".into())
            .stack_size(PARSE_STACK)
            .spawn_scoped(scope, || -> Result<Statement> {
                let statement = state.sql_to_statement(text, &dialect).map_err(unparsed)?;
                check_nesting(&statement)?;
                Ok(statement)
            })
            .map_err(|e| Error::io("a thread to parse the query", e))?
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
    });
    let plan = state.statement_to_plan(parsed?).await?;
    Ok(ctx.execute_logical_plan(plan).await?)
}

/// A query that does not parse, said plainly: `the query does not parse:
/// Expected: an SQL statement, found: SELEC at Line: 1, Column: 1`.
fn unparsed(e: datafusion::error::DataFusionError) -> Error {
    use datafusion::error::DataFusionError;
    use datafusion::sql::sqlparser::parser::ParserError;
    match e {
        DataFusionError::SQL(inner, _) => match *inner {
            ParserError::ParserError(m) | ParserError::TokenizerError(m) => {
                invalid!("the query does not parse: {m}")
            }
            ParserError::RecursionLimitExceeded => {
                invalid!("the query nests too deeply to parse")
            }
        },
        other => other.into(),
    }
}

/// Stack of the thread that parses and checks a query: room for dropping
/// the deepest syntax tree a query as long as a command line can be nests.
const PARSE_STACK: usize = 256 << 20;

/// Refuses a statement nesting deeper than [`MAX_NESTING`].
fn check_nesting(statement: &Statement) -> Result<()> {
    let mut depth = Depth::default();
    let flow = match statement {
        Statement::Statement(s) => s.visit(&mut depth),
        Statement::CopyTo(copy) => match &copy.source {
            CopyToSource::Query(q) => q.visit(&mut depth),
            CopyToSource::Relation(_) => ControlFlow::Continue(()),
        },
        Statement::Explain(explain) => return check_nesting(&explain.statement),
        Statement::CreateExternalTable(_) | Statement::Reset(_) => ControlFlow::Continue(()),
    };
    match flow {
        ControlFlow::Continue(()) => Ok(()),
        ControlFlow::Break(what) => Err(invalid!(
            "the query nests {what} more than {MAX_NESTING} levels deep, deeper than the engine can plan; \
             split it into smaller queries (e.g. write parts to tables and combine those)"
        )),
    }
}

/// The current expression depth of a walk over the syntax tree; breaks
/// with what nests too deep as soon as something does, so the walk itself
/// never goes deeper than the limit.
#[derive(Default)]
struct Depth {
    expressions: usize,
}

impl Visitor for Depth {
    type Break = &'static str;

    fn pre_visit_query(&mut self, query: &Query) -> ControlFlow<Self::Break> {
        if set_operation_depth(&query.body) > MAX_NESTING {
            return ControlFlow::Break("set operations (UNION, INTERSECT, EXCEPT)");
        }
        ControlFlow::Continue(())
    }

    fn pre_visit_expr(&mut self, _: &Expr) -> ControlFlow<Self::Break> {
        self.expressions += 1;
        if self.expressions > MAX_NESTING {
            return ControlFlow::Break("expressions");
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _: &Expr) -> ControlFlow<Self::Break> {
        self.expressions -= 1;
        ControlFlow::Continue(())
    }
}

/// How deep set operations nest in `body`, found without recursion.
fn set_operation_depth(body: &SetExpr) -> usize {
    let mut deepest = 0;
    let mut pending = vec![(body, 0)];
    while let Some((set, depth)) = pending.pop() {
        deepest = deepest.max(depth);
        if let SetExpr::SetOperation { left, right, .. } = set {
            pending.push((left, depth + 1));
            pending.push((right, depth + 1));
        }
    }
    deepest
}
