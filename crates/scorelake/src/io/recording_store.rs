//! An object store that notes which objects a write created, so a directory
//! output can list exactly its own files in its commit record (see
//! [`manifest`](super::manifest)), whatever other writers put beside them.

use std::collections::BTreeSet;
use std::fmt;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::execution::runtime_env::RuntimeEnv;
use datafusion::prelude::DataFrame;
use futures::stream::BoxStream;
use object_store::path::Path as ObjectPath;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult,
};
use url::Url;

/// Passes everything to `inner` and notes the paths of objects put.
#[derive(Debug)]
pub(super) struct RecordingStore {
    inner: Arc<dyn ObjectStore>,
    put: Mutex<BTreeSet<ObjectPath>>,
}

impl RecordingStore {
    /// The paths put so far.
    pub(super) fn paths(&self) -> Vec<ObjectPath> {
        self.put
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    fn note(&self, path: &ObjectPath) {
        self.put
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(path.clone());
    }
}

/// `df` with the object store of `store_url` wrapped in a [`RecordingStore`]
/// (for this frame only), and that store.
pub(super) fn recording(
    df: DataFrame,
    store_url: &Url,
) -> datafusion::error::Result<(DataFrame, Arc<RecordingStore>)> {
    let (state, plan) = df.into_parts();
    let runtime = state.runtime_env();
    let recorder = Arc::new(RecordingStore {
        inner: runtime.object_store_registry.get_store(store_url)?,
        put: Mutex::default(),
    });
    let registry = Arc::new(OneStoreRegistry {
        inner: Arc::clone(&runtime.object_store_registry),
        url: store_url.clone(),
        store: Arc::clone(&recorder) as Arc<dyn ObjectStore>,
    });
    let runtime = RuntimeEnv {
        object_store_registry: registry,
        ..RuntimeEnv::clone(runtime)
    };
    let state = SessionStateBuilder::new_from_existing(state)
        .with_runtime_env(Arc::new(runtime))
        .build();
    Ok((DataFrame::new(state, plan), recorder))
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

impl fmt::Display for RecordingStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Recording({})", self.inner)
    }
}

#[async_trait]
impl ObjectStore for RecordingStore {
    async fn put_opts(
        &self,
        location: &ObjectPath,
        payload: PutPayload,
        opts: PutOptions,
    ) -> object_store::Result<PutResult> {
        self.note(location);
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &ObjectPath,
        opts: PutMultipartOptions,
    ) -> object_store::Result<Box<dyn MultipartUpload>> {
        self.note(location);
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
        self.inner.delete_stream(locations)
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
        self.note(to);
        self.inner.copy_opts(from, to, options).await
    }
}
