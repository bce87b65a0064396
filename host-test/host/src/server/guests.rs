//! Where hook calls run: by default on the HTTP workers, beside the store's I/O (a guest
//! yields at every epoch tick, so a computing call holds a worker for one tick at most);
//! optionally on a tokio runtime of their own, so a computing guest never holds a thread
//! that serves requests, at the price of two thread hand-offs per store round trip.

/// The runtime hook calls run on.
pub(super) enum GuestPool {
    /// The runtime of the caller (`serve`'s HTTP workers).
    Workers,
    /// A runtime of its own; its thread owns the runtime and shuts it down when the pool
    /// is dropped.
    Apart {
        handle: tokio::runtime::Handle,
        _stop: std::sync::mpsc::Sender<()>,
    },
}

impl GuestPool {
    /// `threads` workers of their own, or none (0): the caller's.
    pub(super) fn new(threads: usize) -> Self {
        if threads == 0 {
            return GuestPool::Workers;
        }
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("guest-pool".into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
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
        GuestPool::Apart {
            handle,
            _stop: stop,
        }
    }

    pub(super) fn spawn<F>(&self, f: F) -> tokio::task::JoinHandle<F::Output>
    where
        F: std::future::Future + Send + 'static,
        F::Output: Send + 'static,
    {
        match self {
            GuestPool::Workers => tokio::spawn(f),
            GuestPool::Apart { handle, .. } => handle.spawn(f),
        }
    }
}
