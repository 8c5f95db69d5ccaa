//! An object store that shows each changing request to a hook first: a
//! write notes through it which objects it created, so a directory output can
//! list exactly its own files in its commit record (see
//! [`manifest`](super::manifest)), whatever other writers put beside them.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::DataFrame;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path as ObjectPath;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use url::Url;

/// A changing request an object store is about to make.
#[derive(Clone, Copy, Debug)]
pub enum Change<'a> {
    /// An object put (whole, or a multipart upload started).
    Put(&'a ObjectPath),
    /// An object copied to this path.
    Copy(&'a ObjectPath),
    /// Objects deleted (one request of a delete stream).
    Delete,
}

/// What a [`HookedStore`] calls before each changing request; an error fails
/// the request.
pub type Hook = dyn Fn(Change<'_>) -> object_store::Result<()> + Send + Sync;

/// Passes every request to `inner`, showing each changing one to a hook
/// first (to note what a write put, or to inject faults in tests).
pub struct HookedStore {
    inner: Arc<dyn ObjectStore>,
    hook: Box<Hook>,
}

impl HookedStore {
    /// `inner` with `hook` called before each changing request.
    pub fn new(
        inner: Arc<dyn ObjectStore>,
        hook: impl Fn(Change<'_>) -> object_store::Result<()> + Send + Sync + 'static,
    ) -> HookedStore {
        HookedStore {
            inner,
            hook: Box::new(hook),
        }
    }
}

impl fmt::Debug for HookedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HookedStore({:?})", self.inner)
    }
}

/// The paths a write put, noted by its [`HookedStore`].
#[derive(Debug, Default)]
pub(super) struct Recorded(Mutex<BTreeSet<ObjectPath>>);

impl Recorded {
    /// The paths put so far.
    pub(super) fn paths(&self) -> Vec<ObjectPath> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    fn note(&self, change: Change<'_>) {
        if let Change::Put(path) | Change::Copy(path) = change {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(path.clone());
        }
    }
}

/// `df` with the object store of `store_url` noting the paths it puts (for
/// this frame only), and those paths.
pub(super) fn recording(
    df: DataFrame,
    store_url: &Url,
) -> datafusion::error::Result<(DataFrame, Arc<Recorded>)> {
    let (state, plan) = df.into_parts();
    let runtime = state.runtime_env();
    let recorded = Arc::new(Recorded::default());
    let notes = Arc::clone(&recorded);
    let store = HookedStore::new(
        runtime.object_store_registry.get_store(store_url)?,
        move |change| {
            notes.note(change);
            Ok(())
        },
    );
    let registry = Arc::new(OneStoreRegistry {
        inner: Arc::clone(&runtime.object_store_registry),
        url: store_url.clone(),
        store: Arc::new(store),
    });
    let runtime = RuntimeEnv {
        object_store_registry: registry,
        ..RuntimeEnv::clone(runtime)
    };
    let state = SessionStateBuilder::new_from_existing(state)
        .with_runtime_env(Arc::new(runtime))
        .build();
    Ok((DataFrame::new(state, plan), recorded))
}

/// Serves `store` for `url` and everything else from `inner`.
#[derive(Debug)]
struct OneStoreRegistry {
    inner: Arc<dyn ObjectStoreRegistry>,
    url: Url,
    store: Arc<dyn ObjectStore>,
}

impl OneStoreRegistry {
    fn is_ours(&self, url: &Url) -> bool {
        url.scheme() == self.url.scheme() && url.host_str() == self.url.host_str()
    }
}

impl ObjectStoreRegistry for OneStoreRegistry {
    fn register_store(
        &self,
        url: &Url,
        store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        self.inner.register_store(url, store)
    }

    fn deregister_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        self.inner.deregister_store(url)
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        if self.is_ours(url) {
            Ok(Arc::clone(&self.store))
        } else {
            self.inner.get_store(url)
        }
    }
}

impl fmt::Display for HookedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Hooked({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for HookedStore {
    async fn put_opts(
        &self,
        location: &ObjectPath,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        (self.hook)(Change::Put(location))?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &ObjectPath,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        (self.hook)(Change::Put(location))?;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(
        &self,
        location: &ObjectPath,
        options: GetOptions,
    ) -> object_store::Result<GetResult> {
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, object_store::Result<ObjectPath>>,
    ) -> BoxStream<'static, object_store::Result<ObjectPath>> {
        match (self.hook)(Change::Delete) {
            Ok(()) => self.inner.delete_stream(locations),
            Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
        }
    }

    fn list(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> BoxStream<'static, object_store::Result<ObjectMeta>> {
        self.inner.list(prefix)
    }

    async fn list_with_delimiter(
        &self,
        prefix: Option<&ObjectPath>,
    ) -> object_store::Result<ListResult> {
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(
        &self,
        from: &ObjectPath,
        to: &ObjectPath,
        options: CopyOptions,
    ) -> object_store::Result<()> {
        (self.hook)(Change::Copy(to))?;
        self.inner.copy_opts(from, to, options).await
    }
}
