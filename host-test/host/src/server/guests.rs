//! The guest pool: hook calls run on a tokio runtime of their own, apart from the HTTP
//! workers, so a computing guest never holds a thread that serves requests.

/// A tokio runtime of its own for hook calls, so a guest that computes (between its
/// yields at every epoch tick) never holds a thread that serves HTTP. Its thread owns the
/// runtime and shuts it down when the pool is dropped.
pub(super) struct GuestPool {
    handle: tokio::runtime::Handle,
    _stop: std::sync::mpsc::Sender<()>,
}

impl GuestPool {
    pub(super) fn new(threads: usize) -> Self {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("guest-pool".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads.max(1))
                    .thread_name("guest")
                    .enable_all()
                    .build()
                    .expect("the guest runtime starts");
                let _ = handle_tx.send(rt.handle().clone());
                let _ = stopped.recv();
                rt.shutdown_background();
            })
            .expect("the guest pool thread starts");
        let handle = handle_rx.recv().expect("the guest runtime's handle");
        Self {
            handle,
            _stop: stop,
        }
    }

    pub(super) fn spawn<F>(&self, f: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(f)
    }
}
