//! The one parallel batch driver: every batch that runs on several threads
//! (the `*_par` batches here, the Python numpy and Arrow batches) cuts its
//! rows and its output with a [`Schedule`] and runs on rayon's threads
//! through [`Schedule::run`]. Without the `parallel` feature every
//! schedule is serial.
//!
//! What a batch must keep serial is the caller's to say, and the driver
//! keeps it so: rows that draw on a campaign budget are decided in input
//! order, and the circuit breaker judges the whole batch (docs/spec.md
//! §7). [`Schedule::for_batch`] is serial for either; the `*_par`
//! batches instead decide budget rows in a serial pass after the parallel
//! one and judge the breaker last.

use core::ops::Range;
use std::vec::Vec;

use crate::budgets::Budgets;
use crate::policy::Policy;

/// An output that can be cut at a row: each worker of a parallel batch
/// writes its own rows through its own part.
pub trait SplitSink: Sized {
    /// Rows `0..row` of this part (all of them when it has fewer) and the
    /// rest, numbered from 0 again.
    fn split_at(self, row: usize) -> (Self, Self);
}

impl<T> SplitSink for &mut [T] {
    fn split_at(self, row: usize) -> (Self, Self) {
        self.split_at_mut(row.min(self.len()))
    }
}

/// No output to cut: each piece builds its own (see [`Schedule::run`]'s
/// results).
impl SplitSink for () {
    fn split_at(self, _row: usize) -> ((), ()) {
        ((), ())
    }
}

/// Smallest share of a binding's batch worth a thread of its own
/// ([`Schedule::for_batch`]): below it, starting a worker costs more than
/// it saves.
pub const MIN_ROWS_PER_THREAD: usize = 32 * 1024;

/// Where the workers of a parallel schedule come from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Workers {
    /// The rayon pool the caller runs in (the global one unless inside
    /// `ThreadPool::install`), as a Rust user of rayon expects.
    Current,
    /// A pool of exactly `threads` threads kept by priceguard (see
    /// [`Schedule::for_batch`]).
    Own,
}

/// How a batch of rows is cut into pieces and how many threads decide
/// them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Schedule {
    threads: usize,
    piece: usize,
    workers: Workers,
}

impl Schedule {
    /// Everything on the calling thread, as one piece.
    pub fn serial() -> Schedule {
        Schedule {
            threads: 1,
            piece: usize::MAX,
            workers: Workers::Own,
        }
    }

    /// Pieces of `piece` rows on the rayon pool the caller runs in (serial
    /// without the `parallel` feature or when that pool has one thread).
    pub fn rayon(piece: usize) -> Schedule {
        Schedule {
            threads: current_threads(),
            piece: piece.max(1),
            workers: Workers::Current,
        }
    }

    /// Pieces of `piece` rows on `threads` threads of a pool priceguard
    /// keeps (built once per process and size).
    pub fn threads(threads: usize, piece: usize) -> Schedule {
        Schedule {
            threads: threads.max(1),
            piece: piece.max(1),
            workers: Workers::Own,
        }
    }

    /// The schedule of a binding's batch of `n` rows (Python's numpy and
    /// Arrow batches): serial when the policy has a circuit breaker (it
    /// judges the batch as a whole) or when `draws_budgets` (a campaign
    /// column with a policy that has campaigns: budgets are consumed in
    /// input order); else [`threads_wanted`] threads, no more than one
    /// per [`MIN_ROWS_PER_THREAD`] rows, taking pieces of `piece` rows as
    /// they free up.
    pub fn for_batch(policy: &Policy, n: usize, draws_budgets: bool, piece: usize) -> Schedule {
        if policy.breaker().is_some() || draws_budgets {
            return Schedule::serial();
        }
        Schedule::threads(threads_wanted().min(n / MIN_ROWS_PER_THREAD), piece)
    }

    /// The same threads, the `n` rows cut into one piece per thread.
    pub fn even(self, n: usize) -> Schedule {
        Schedule {
            piece: n.div_ceil(self.threads).max(1),
            ..self
        }
    }

    /// Threads that decide the batch (1 when serial).
    pub fn thread_count(&self) -> usize {
        if cfg!(feature = "parallel") {
            self.threads
        } else {
            1
        }
    }

    /// Rows per piece of a parallel run.
    pub fn piece(&self) -> usize {
        self.piece
    }

    /// Decides rows `0..n`: `work(rows, part, budgets)` for each piece,
    /// `part` being `sink`'s rows of that piece (numbered from 0), and the
    /// pieces' results in input order; else the error of a piece that
    /// failed (which one, when several do, is not fixed).
    ///
    /// Serial, `work` is called once, for `0..n`, with all of `sink` and
    /// the caller's `budgets`. In parallel each piece gets its own copy of
    /// `budgets`, thrown away afterwards: a parallel `work` must not draw
    /// on any (the caller's `budgets` are left as they were). Allocates
    /// per batch (the pieces), never per row.
    pub fn run<S, R, E, F>(
        &self,
        n: usize,
        budgets: &mut Budgets,
        sink: S,
        work: F,
    ) -> Result<Vec<R>, E>
    where
        S: SplitSink + Send,
        R: Send,
        E: Send,
        F: Fn(Range<usize>, S, &mut Budgets) -> Result<R, E> + Sync,
    {
        if self.thread_count() <= 1 || n <= self.piece {
            return Ok(std::vec![work(0..n, sink, budgets)?]);
        }
        #[cfg(feature = "parallel")]
        {
            self.run_parallel(n, budgets, sink, work)
        }
        #[cfg(not(feature = "parallel"))]
        {
            Ok(std::vec![work(0..n, sink, budgets)?])
        }
    }

    #[cfg(feature = "parallel")]
    fn run_parallel<S, R, E, F>(
        &self,
        n: usize,
        budgets: &Budgets,
        sink: S,
        work: F,
    ) -> Result<Vec<R>, E>
    where
        S: SplitSink + Send,
        R: Send,
        E: Send,
        F: Fn(Range<usize>, S, &mut Budgets) -> Result<R, E> + Sync,
    {
        use rayon::prelude::*;
        let mut pieces = Vec::with_capacity(n.div_ceil(self.piece));
        let mut rest = sink;
        let mut start = 0;
        while start < n {
            let len = self.piece.min(n - start);
            let (mine, others) = rest.split_at(len);
            rest = others;
            pieces.push((start..start + len, mine));
            start += len;
        }
        let run = |(rows, part): (Range<usize>, S)| work(rows, part, &mut budgets.clone());
        match self.workers {
            // One task per piece: an idle worker of the caller's pool
            // steals the next pieces, as rayon's own iterators do.
            Workers::Current => pieces.into_par_iter().with_max_len(1).map(run).collect(),
            Workers::Own => match pool::get(self.threads) {
                Some(p) => queue(&p, pieces, run),
                // No threads could be started: the same pieces, in order,
                // on this thread.
                None => pieces.into_iter().map(run).collect(),
            },
        }
    }
}

/// The pieces on every thread of `pool` at once, each taking the next
/// piece as it frees up, so a thread that loses its core for a while (a
/// shared machine) does not hold up the batch. Every thread is woken at
/// the start (a broadcast), as threads started for the batch would be,
/// rather than one after the other as rayon's iterators split the work.
#[cfg(feature = "parallel")]
fn queue<S, R, E>(
    pool: &rayon::ThreadPool,
    pieces: Vec<(Range<usize>, S)>,
    run: impl Fn((Range<usize>, S)) -> Result<R, E> + Sync,
) -> Result<Vec<R>, E>
where
    S: Send,
    R: Send,
    E: Send,
{
    use std::sync::{Mutex, PoisonError};
    let count = pieces.len();
    // Popped from the end: the first piece first.
    let queue = Mutex::new(pieces.into_iter().enumerate().rev().collect::<Vec<_>>());
    let per_thread = pool.broadcast(|_| {
        let mut done = Vec::new();
        loop {
            let next = queue.lock().unwrap_or_else(PoisonError::into_inner).pop();
            let Some((k, piece)) = next else {
                return done;
            };
            let r = run(piece);
            let failed = r.is_err();
            done.push((k, r));
            if failed {
                return done;
            }
        }
    });
    let mut all: Vec<(usize, Result<R, E>)> = per_thread.into_iter().flatten().collect();
    all.sort_unstable_by_key(|(k, _)| *k);
    // A thread stops early only after an error, which is then returned
    // (the first in input order); else every piece was run.
    debug_assert!(all.len() == count || all.iter().any(|(_, r)| r.is_err()));
    all.into_iter().map(|(_, r)| r).collect()
}

/// Threads of the rayon pool the caller runs in (1 without `parallel`).
fn current_threads() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_num_threads().max(1)
    }
    #[cfg(not(feature = "parallel"))]
    {
        1
    }
}

/// Threads a binding's batch may use: `PRICEGUARD_NUM_THREADS` when it is
/// a positive whole number, else the available cores (1 without the
/// `parallel` feature).
pub fn threads_wanted() -> usize {
    if !cfg!(feature = "parallel") {
        return 1;
    }
    threads_from(std::env::var("PRICEGUARD_NUM_THREADS").ok().as_deref())
}

/// [`threads_wanted`] given the variable's value.
fn threads_from(var: Option<&str>) -> usize {
    var.and_then(|v| v.trim().parse::<usize>().ok())
        .filter(|t| *t > 0)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, usize::from))
}

#[cfg(feature = "parallel")]
mod pool {
    //! Pools of a given size, kept for the life of the process: building
    //! one starts its threads, too slow for every batch.

    use std::sync::{Arc, Mutex, PoisonError};
    use std::vec::Vec;

    use rayon::{ThreadPool, ThreadPoolBuilder};

    /// (process id, threads, pool). The process id is kept because a
    /// forked child has the parent's pools but none of their threads: a
    /// pool used there would wait for ever, so the child builds its own.
    type Pools = Vec<(u32, usize, Arc<ThreadPool>)>;

    static POOLS: Mutex<Pools> = Mutex::new(Vec::new());

    /// The pool of `threads` threads of this process, built on first use;
    /// `None` when its threads cannot be started.
    pub(super) fn get(threads: usize) -> Option<Arc<ThreadPool>> {
        let pid = std::process::id();
        let mut pools = POOLS.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, _, p)) = pools.iter().find(|(p, t, _)| *p == pid && *t == threads) {
            return Some(Arc::clone(p));
        }
        let pool = ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| std::format!("priceguard-{i}"))
            .build()
            .ok()?;
        let pool = Arc::new(pool);
        pools.push((pid, threads, Arc::clone(&pool)));
        // A forked parent's pools stay in the list, never used again here.
        Some(pool)
    }
}

#[cfg(all(test, feature = "parallel", feature = "serde"))]
#[allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
mod tests {
    use super::*;
    use std::string::String;
    use std::vec::Vec;

    fn policy(extra: &str) -> Policy {
        let toml = std::format!(
            "name = \"s\"\ncurrency = \"USD\"\nbounds = {{ min_price = \"1\", max_price = \"100\" }}\n{extra}"
        );
        Policy::from_toml_str(&toml).unwrap()
    }

    #[test]
    fn pieces_cover_the_rows_in_order_each_with_its_part() {
        let p = policy("");
        let mut out = std::vec![usize::MAX; 10_007];
        let mut budgets = Budgets::new(&p);
        let ranges = Schedule::threads(2, 1000)
            .run(
                out.len(),
                &mut budgets,
                out.as_mut_slice(),
                |rows, part: &mut [usize], _| {
                    assert_eq!(part.len(), rows.len());
                    for (j, slot) in part.iter_mut().enumerate() {
                        *slot = rows.start + j;
                    }
                    Ok::<_, ()>(rows)
                },
            )
            .unwrap();
        let want: Vec<_> = (0..11)
            .map(|k| k * 1000..(k * 1000 + 1000).min(10_007))
            .collect();
        assert_eq!(ranges, want);
        assert!(out.iter().enumerate().all(|(i, v)| *v == i));
    }

    #[test]
    fn serial_lends_the_callers_budgets_parallel_gives_copies() {
        let p = policy("[promotion]\nbudgets = { spring = \"100\" }");
        let mut budgets = Budgets::new(&p);
        // The caller's budgets, by address.
        let mine = &budgets as *const Budgets as usize;
        let lent = Schedule::serial()
            .run(100_000, &mut budgets, (), |rows, (), b| {
                Ok::<_, ()>((rows, (b as *const Budgets as usize) == mine))
            })
            .unwrap();
        assert_eq!(lent, std::vec![(0..100_000, true)]);
        let copies = Schedule::threads(2, 10_000)
            .run(100_000, &mut budgets, (), |_, (), b| {
                Ok::<_, ()>((b as *const Budgets as usize) != mine && *b == Budgets::new(&p))
            })
            .unwrap();
        assert_eq!(copies.len(), 10);
        assert!(copies.iter().all(|c| *c));
    }

    #[test]
    fn a_failing_piece_fails_the_run() {
        let p = policy("");
        let mut budgets = Budgets::new(&p);
        let got = Schedule::threads(2, 100).run(1000, &mut budgets, (), |rows, (), _| {
            if rows.start == 700 {
                Err(rows.start)
            } else {
                Ok(())
            }
        });
        assert_eq!(got, Err(700));
    }

    #[test]
    fn own_pool_has_the_asked_threads() {
        let p = policy("");
        let mut budgets = Budgets::new(&p);
        let seen = Schedule::threads(3, 10)
            .run(100, &mut budgets, (), |_, (), _| {
                let name = String::from(std::thread::current().name().unwrap_or(""));
                Ok::<_, ()>((rayon::current_num_threads(), name))
            })
            .unwrap();
        assert!(seen
            .iter()
            .all(|(t, name)| *t == 3 && name.starts_with("priceguard-")));
    }

    #[test]
    fn batches_stay_serial_when_the_rules_say_so() {
        let big = 100 * MIN_ROWS_PER_THREAD;
        let plain = policy("");
        let breaker = policy("[breaker]\nmax_violation_ratio = \"0.25\"\nmin_batch = 10");
        assert_eq!(
            Schedule::for_batch(&breaker, big, false, 64),
            Schedule::serial()
        );
        assert_eq!(
            Schedule::for_batch(&plain, big, true, 64),
            Schedule::serial()
        );
        // No more threads than the batch has shares of MIN_ROWS_PER_THREAD.
        assert_eq!(
            Schedule::for_batch(&plain, 2 * MIN_ROWS_PER_THREAD - 1, false, 64).thread_count(),
            1
        );
        assert_eq!(
            Schedule::for_batch(&plain, big, false, 64).thread_count(),
            threads_wanted().min(100)
        );
        assert_eq!(Schedule::threads(4, 64).even(10).piece(), 3);
    }

    #[test]
    fn num_threads_variable() {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        assert_eq!(threads_from(Some("3")), 3);
        assert_eq!(threads_from(Some(" 5 ")), 5);
        assert_eq!(threads_from(Some("0")), cores);
        assert_eq!(threads_from(Some("many")), cores);
        assert_eq!(threads_from(None), cores);
    }
}
