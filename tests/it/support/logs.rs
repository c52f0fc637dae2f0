//! Log capture for the tests that check log lines, in a process shared with every other test.
//!
//! A test cannot install a subscriber of its own: the global one can be set once per process,
//! and a scoped one (`set_default`) only sees its own thread while tracing caches each
//! callsite's interest for the whole process. So one global subscriber is installed on first
//! use, and it writes an event only on a thread that belongs to a [`Capture`] — the test thread
//! while it runs the capture's future, and every thread of the runtime the capture builds
//! (tokio workers and the blocking pool) — filtered by that capture's directives, into that
//! capture's buffer. Other tests' events go nowhere; the format is `tracing_subscriber::fmt`'s
//! default, without colours.

use std::cell::RefCell;
use std::future::Future;
use std::io::Write;
use std::sync::{Arc, Mutex, Once};

use tracing_subscriber::filter::{dynamic_filter_fn, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// Where a capture's threads write.
struct Sink {
    filter: Targets,
    text: Mutex<Vec<u8>>,
}

thread_local! {
    static CURRENT: RefCell<Option<Arc<Sink>>> = const { RefCell::new(None) };
}

/// The capture of the current thread, if any (none while the thread is being torn down).
fn current() -> Option<Arc<Sink>> {
    CURRENT.try_with(|c| c.borrow().clone()).ok().flatten()
}

fn enabled_here(meta: &tracing::Metadata<'_>) -> bool {
    CURRENT
        .try_with(|c| {
            c.borrow()
                .as_ref()
                .is_some_and(|s| s.filter.would_enable(meta.target(), meta.level()))
        })
        .unwrap_or(false)
}

/// Makes writers into the current thread's capture.
struct Route;

struct RouteWriter(Option<Arc<Sink>>);

impl<'a> MakeWriter<'a> for Route {
    type Writer = RouteWriter;
    fn make_writer(&'a self) -> RouteWriter {
        RouteWriter(current())
    }
}

impl Write for RouteWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Some(sink) = &self.0 {
            sink.text.lock().unwrap().extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(Route)
            .with_filter(dynamic_filter_fn(|meta, _| enabled_here(meta)));
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("nothing else in the test process sets the global tracing subscriber");
    });
    // A callsite another test reached for the first time while the subscriber was being
    // installed may have cached "never"; ask every callsite again.
    tracing::callsite::rebuild_interest_cache();
}

/// Sets the current thread's capture; returns the one it had.
fn set(sink: Option<Arc<Sink>>) -> Option<Arc<Sink>> {
    CURRENT.try_with(|c| c.replace(sink)).ok().flatten()
}

/// Sets the current thread's capture until the guard drops.
struct Entered(Option<Arc<Sink>>);

fn enter(sink: Arc<Sink>) -> Entered {
    Entered(set(Some(sink)))
}

impl Drop for Entered {
    fn drop(&mut self) {
        set(self.0.take());
    }
}

/// The log lines of one test.
pub struct Capture {
    sink: Arc<Sink>,
}

impl Capture {
    /// A capture keeping the events `filter` enables: `tracing_subscriber`'s `Targets`
    /// directives, e.g. `"warn"` or `"http=trace"`.
    pub fn new(filter: &str) -> Capture {
        install();
        Capture {
            sink: Arc::new(Sink {
                filter: filter.parse().expect("log filter directives"),
                text: Mutex::new(Vec::new()),
            }),
        }
    }

    /// Everything captured since the last `take`.
    pub fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.sink.text.lock().unwrap())).unwrap()
    }

    /// Runs `future` on a runtime from `runtime` (as `#[tokio::test]` would, I/O and time
    /// enabled) whose threads, and this one meanwhile, log into this capture.
    pub fn block_on<F: Future>(
        &self,
        mut runtime: tokio::runtime::Builder,
        future: F,
    ) -> F::Output {
        let sink = self.sink.clone();
        let rt = runtime
            .enable_all()
            .on_thread_start(move || {
                set(Some(sink.clone()));
            })
            .on_thread_stop(|| {
                set(None);
            })
            .build()
            .expect("a tokio runtime");
        let _here = enter(self.sink.clone());
        let out = rt.block_on(future);
        drop(rt);
        out
    }
}
