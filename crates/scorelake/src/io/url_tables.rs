//! Files and folders named in SQL: `SELECT … FROM 's3://lake/panel/'`.

use std::sync::Arc;

use async_trait::async_trait;
use datafusion::catalog::{DynamicFileCatalog, TableProvider, UrlTableFactory};
use datafusion::common::DataFusionError;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::SessionContext;

use super::read::{ReadOptions, read};
use crate::session::Session;

/// `ctx` with table names that look like locations (a path, a file name with
/// an extension, or a URL) read through [`read`](super::read): every format,
/// directories, hive partitions and `s3://`, exactly as the `io` functions
/// read them. Other names resolve as before.
///
/// ```
/// use scorelake::{config::Config, io, session::Session};
/// # tokio::runtime::Runtime::new().unwrap().block_on(async {
/// let dir = tempfile::tempdir().unwrap();
/// let out = dir.path().join("t.ncf");
/// let session = Session::new(Config::default())?;
/// let df = session.ctx().sql("SELECT 1 AS x").await?;
/// io::write(&session, df, out.to_str().unwrap(), &io::WriteOptions::default()).await?;
/// let ctx = io::with_url_tables(&session, &session.new_context(), io::ReadOptions::default());
/// let sql = format!("SELECT count(*) FROM '{}'", out.display());
/// assert_eq!(ctx.sql(&sql).await?.collect().await?[0].num_rows(), 1);
/// # Ok::<(), scorelake::Error>(())
/// # }).unwrap();
/// ```
pub fn with_url_tables(
    session: &Session,
    ctx: &SessionContext,
    options: ReadOptions,
) -> SessionContext {
    let factory = Arc::new(LocationTables {
        session: session.clone(),
        options,
    });
    let state = ctx.state();
    let catalogs = Arc::new(DynamicFileCatalog::new(
        Arc::clone(state.catalog_list()),
        factory,
    ));
    SessionContext::new_with_state(
        SessionStateBuilder::from(state)
            .with_catalog_list(catalogs)
            .build(),
    )
}

#[derive(Debug)]
struct LocationTables {
    session: Session,
    options: ReadOptions,
}

#[async_trait]
impl UrlTableFactory for LocationTables {
    async fn try_new(
        &self,
        name: &str,
    ) -> datafusion::common::Result<Option<Arc<dyn TableProvider>>> {
        let looks_like_location = name.contains('/')
            || name.contains("://")
            || std::path::Path::new(name).extension().is_some();
        if !looks_like_location {
            return Ok(None);
        }
        let df = read(&self.session, name, &self.options)
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?;
        Ok(Some(df.into_view()))
    }
}
