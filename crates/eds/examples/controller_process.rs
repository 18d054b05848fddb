//! The controller as its own process: memory, CPU and start-up time of `eds controller` against
//! `eds sim serve --nodes NODES`, each in its own process, through a full rollout.
//!
//! Starts the simulated cluster (API server and kubelet simulator with NODES fake nodes, pod
//! start delay 1 s + up to 20%), then `eds controller` on its kubeconfig (log level `warn`),
//! and prints:
//!
//! - the time from the controller's start to `/readyz` answering 200 (caches synced);
//! - its resident memory (`VmRSS`) when ready (the node cache), after the first deployment
//!   (NODES pods) and after a rolling update to a new image, with the peak (`VmHWM`);
//! - the time of both phases, and of the rolling update its ratio to the theoretical minimum
//!   (the formula is printed);
//! - the CPU time of each process per phase: the controller's own, and the simulated cluster's
//!   (API server, watches, kubelet simulator and the node lease heartbeats of NODES nodes).
//!
//! Needs the `eds` binary of the same profile beside the examples (or `EDS_BIN`):
//!
//! `cargo build --release -p eds --bin eds --example controller_process &&
//!  target/release/examples/controller_process [NODES]` (default 5,000 nodes)

#[path = "scale/latency.rs"]
#[allow(dead_code)]
mod latency;
#[path = "scale/rollout.rs"]
mod rollout;

use std::{
    io::{BufRead, BufReader},
    net::SocketAddr,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use eds_api::ExtendedDaemonSet;
use kube::{
    Api,
    config::{KubeConfigOptions, Kubeconfig},
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Pod start delay and jitter of `eds sim serve` (the kubelet simulator's defaults).
const START_DELAY: Duration = Duration::from_secs(1);
const JITTER: f64 = 0.2;
/// How long the cluster and the controller may take to come up.
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// A child process killed when dropped, so that an error leaves nothing running.
struct Process {
    child: Child,
    what: &'static str,
}

impl Process {
    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Fails if the process has exited.
    fn check_running(&mut self) -> Result<(), Box<dyn std::error::Error>> {
        match self.child.try_wait()? {
            Some(status) => Err(format!("{} exited: {status}", self.what).into()),
            None => Ok(()),
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Memory and CPU time of a process, from `/proc/<pid>` (Linux).
struct Usage {
    rss_mib: f64,
    hwm_mib: f64,
    cpu: Duration,
}

impl Usage {
    fn of(pid: u32) -> Self {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let kib = |field: &str| -> f64 {
            status
                .lines()
                .find_map(|l| l.strip_prefix(field))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
                .unwrap_or(0.0)
        };
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        // utime and stime are fields 14 and 15 (11 and 12 after the command name's ')').
        let fields: Vec<&str> = stat
            .rsplit(')')
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .collect();
        let ticks = |i: usize| -> u64 { fields.get(i).and_then(|v| v.parse().ok()).unwrap_or(0) };
        Self {
            rss_mib: kib("VmRSS:") / 1024.0,
            hwm_mib: kib("VmHWM:") / 1024.0,
            cpu: Duration::from_millis((ticks(11) + ticks(12)) * 10),
        }
    }
}

/// A free port on 127.0.0.1 (bound, then released for the child to take).
fn free_port() -> std::io::Result<SocketAddr> {
    std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()
}

/// A plain HTTP/1.1 GET: the status code.
async fn http_status(addr: SocketAddr, path: &str) -> std::io::Result<u16> {
    let mut stream = tokio::net::TcpStream::connect(addr).await?;
    let request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut response = String::new();
    stream.read_to_string(&mut response).await?;
    Ok(response
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0))
}

/// The `eds` binary: `EDS_BIN`, else beside the directory of this example.
fn eds_binary() -> Result<PathBuf, Box<dyn std::error::Error>> {
    if let Some(bin) = std::env::var_os("EDS_BIN") {
        return Ok(bin.into());
    }
    let exe = std::env::current_exe()?;
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .map(|dir| dir.join("eds"))
        .ok_or("no directory above the example")?;
    if !bin.exists() {
        return Err(format!(
            "{} not found: build it with the example (cargo build --release -p eds --bin eds) \
             or name it in EDS_BIN",
            bin.display()
        )
        .into());
    }
    Ok(bin)
}

/// Starts `eds sim serve` and waits for its `sim ready:` line.
fn start_cluster(
    eds: &Path,
    nodes: usize,
    kubeconfig: &Path,
) -> Result<Process, Box<dyn std::error::Error>> {
    let mut child = Command::new(eds)
        .args([
            "sim",
            "serve",
            "--nodes",
            &nodes.to_string(),
            "--kubeconfig",
        ])
        .arg(kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()?;
    let stdout = child.stdout.take().ok_or("no stdout")?;
    let process = Process {
        child,
        what: "eds sim serve",
    };
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if line.starts_with("sim ready:") {
                let _ = tx.send(());
            }
        }
    });
    rx.recv_timeout(START_TIMEOUT)
        .map_err(|_| "eds sim serve did not print `sim ready:`")?;
    Ok(process)
}

fn mib(u: &Usage) -> String {
    format!("RSS {:.0} MiB (peak {:.0} MiB)", u.rss_mib, u.hwm_mib)
}

/// Applies `image` and waits until every node runs it; prints the phase's figures.
async fn phase(
    what: &str,
    api: &Api<ExtendedDaemonSet>,
    image: &str,
    nodes: usize,
    controller: &mut Process,
    cluster: &mut Process,
    floor: Option<&latency::Floor>,
) -> Result<(), Box<dyn std::error::Error>> {
    let (ctl0, sim0) = (Usage::of(controller.pid()), Usage::of(cluster.pid()));
    let t = Instant::now();
    let generation = rollout::apply(api, &rollout::eds(image, nodes, false)).await?;
    let status = rollout::wait_complete(api, generation, nodes as i32, t).await?;
    let elapsed = t.elapsed();
    controller.check_running()?;
    cluster.check_running()?;
    let (ctl, sim) = (Usage::of(controller.pid()), Usage::of(cluster.pid()));
    println!(
        "{what}: {nodes}/{nodes} nodes run a Ready pod of {} in {:.2} s",
        status.active_replica_set,
        elapsed.as_secs_f64()
    );
    if let Some(floor) = floor {
        println!(
            "  theoretical minimum {}; ratio {:.2}",
            floor.explain(),
            elapsed.as_secs_f64() / floor.total.as_secs_f64()
        );
    }
    println!(
        "  CPU: controller {:.2} s, simulated cluster {:.2} s",
        (ctl.cpu - ctl0.cpu).as_secs_f64(),
        (sim.cpu - sim0.cpu).as_secs_f64()
    );
    println!("  controller {}", mib(&ctl));
    Ok(())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let nodes: usize = match std::env::args().nth(1) {
        None => 5_000,
        Some(a) => a
            .parse()
            .map_err(|_| format!("NODES must be a number of nodes, not {a:?}"))?,
    };
    let eds = eds_binary()?;
    let dir = tempfile::tempdir()?;
    let kubeconfig = dir.path().join("kubeconfig");

    let t = Instant::now();
    let mut cluster = start_cluster(&eds, nodes, &kubeconfig)?;
    println!(
        "simulated cluster: {nodes} nodes up in {:.2} s (pid {})",
        t.elapsed().as_secs_f64(),
        cluster.pid()
    );

    let (metrics, health) = (free_port()?, free_port()?);
    let log = std::fs::File::create(dir.path().join("controller.log"))?;
    let t = Instant::now();
    let mut controller = Process {
        child: Command::new(&eds)
            .arg("controller")
            .arg("--kubeconfig")
            .arg(&kubeconfig)
            .args(["--metrics-addr", &metrics.to_string()])
            .args(["--health-addr", &health.to_string()])
            .args(["--log-level", "warn"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()?,
        what: "eds controller",
    };
    while !matches!(http_status(health, "/readyz").await, Ok(200)) {
        controller.check_running()?;
        if t.elapsed() > START_TIMEOUT {
            return Err("the controller was not ready in time".into());
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    println!(
        "controller: start to ready (caches synced) in {:.2} s; {} (pid {})",
        t.elapsed().as_secs_f64(),
        mib(&Usage::of(controller.pid())),
        controller.pid()
    );

    let config = kube::Config::from_custom_kubeconfig(
        Kubeconfig::read_from(&kubeconfig)?,
        &KubeConfigOptions::default(),
    )
    .await?;
    let client = kube::Client::try_from(config)?;
    let api: Api<ExtendedDaemonSet> = Api::namespaced(client, rollout::NAMESPACE);
    phase(
        "first deployment",
        &api,
        "registry.k8s.io/pause:3.0",
        nodes,
        &mut controller,
        &mut cluster,
        None,
    )
    .await?;
    let floor = latency::rolling_update_floor(
        nodes,
        nodes.div_ceil(10),
        START_DELAY,
        JITTER,
        rollout::GRACE,
        None,
    );
    phase(
        "rolling update",
        &api,
        "registry.k8s.io/pause:3.1",
        nodes,
        &mut controller,
        &mut cluster,
        Some(&floor),
    )
    .await?;
    let log = std::fs::read_to_string(dir.path().join("controller.log"))?;
    let warnings = log.lines().filter(|l| l.contains("WARN")).count();
    println!("controller warnings logged: {warnings}");
    Ok(())
}
