//! `eds`: the ExtendedDaemonSet controller and its tools.

use std::{process::ExitCode, time::Duration};

use anyhow::Context as _;
use clap::{Parser, Subcommand};
use eds::{
    cli::{self, PlanArgs},
    demo,
};
use eds_controller::{self as controller, ControllerArgs, LogFormat, RuntimeConfig, WatchScope};

/// mimalloc instead of glibc's malloc: decoding and encoding JSON into many small objects is
/// most of the work of both the controller and `eds sim serve`, and with glibc's allocator a
/// 5,000-node rolling update spent about 40% of its CPU in `malloc` and `free` (README,
/// "Scale"). Version 2, which returns freed pages to the system after 10 ms (version 3 waits
/// 1 s), without transparent huge pages: with version 3's defaults the controller's resident
/// memory at 5,000 nodes was 148 MiB instead of 126 MiB with glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// ExtendedDaemonSet controller: canary deployments and a careful rolling update for node daemons.
#[derive(Parser, Debug)]
#[command(name = "eds", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the controller (the default when running in a pod).
    Controller(Box<ControllerArgs>),
    #[command(about = cli::plan::ABOUT, long_about = cli::plan::LONG_ABOUT)]
    Plan(Box<PlanArgs>),
    /// Run the upstream `foo` walkthrough (canary, promotion, rolling update) on the embedded
    /// simulated cluster; no cluster needed.
    Demo(demo::DemoArgs),
    /// Print the CustomResourceDefinitions as YAML.
    Crd,
    /// The embedded cluster simulator.
    #[command(subcommand)]
    Sim(SimCommand),
}

#[derive(Subcommand, Debug)]
enum SimCommand {
    /// Serve a simulated cluster (API server with the CRDs installed, kubelet with fake nodes)
    /// on 127.0.0.1 until Ctrl-C; prints `sim ready: <url> kubeconfig=<path>`.
    Serve {
        /// Number of fake nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// Where to write a kubeconfig for the simulated cluster.
        #[arg(long, default_value = kube_sim::apiserver::DEFAULT_KUBECONFIG)]
        kubeconfig: std::path::PathBuf,
        /// Port on 127.0.0.1 (0 picks a free one).
        #[arg(long, default_value_t = 0)]
        port: u16,
    },
    /// Run only the kubelet/scheduler simulator against any API server: fake nodes (status,
    /// capacity, conditions, node leases) whose pods look like pods of real nodes, until
    /// Ctrl-C; prints `sim kubelet ready: ...`. The fake nodes are deleted at exit.
    Kubelet(eds::sim::KubeletArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let command = match cli.command {
        Some(c) => c,
        None if std::env::var_os("KUBERNETES_SERVICE_HOST").is_some() => {
            match Cli::parse_from(["eds", "controller"]).command {
                Some(c) => c,
                None => unreachable!("the controller subcommand was given"),
            }
        }
        None => {
            use clap::CommandFactory;
            let _ = Cli::command().print_help();
            return ExitCode::from(2);
        }
    };
    if let Command::Plan(args) = command {
        // Exit codes as `kubectl diff`: 0 no changes, 1 changes planned, 2 error.
        let mut out = std::io::stdout().lock();
        return match runtime.block_on(cli::run(*args, &mut out)) {
            Ok(status) => ExitCode::from(status.exit_code()),
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(e.exit_code())
            }
        };
    }
    let result = runtime.block_on(async move {
        match command {
            Command::Controller(args) => run_controller(*args).await,
            Command::Crd => {
                print!("{}", eds_api::crds_yaml()?);
                Ok(())
            }
            Command::Sim(SimCommand::Serve {
                nodes,
                kubeconfig,
                port,
            }) => sim_serve(nodes, kubeconfig, port).await,
            Command::Sim(SimCommand::Kubelet(args)) => {
                eds::sim::run_kubelet(args, shutdown_signal()).await?;
                Ok(())
            }
            Command::Plan(_) => unreachable!("handled above"),
            Command::Demo(args) => {
                let mut out = std::io::stdout();
                demo::run(args, &mut out).await.map_err(anyhow::Error::from)
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_logging(format: LogFormat, filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid --log-level {filter:?}"))?;
    // Colour only on a terminal: escape codes in a log file or a log collector are noise.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Json => builder.json().init(),
        LogFormat::Text => builder.init(),
    }
    Ok(())
}

async fn run_controller(args: ControllerArgs) -> anyhow::Result<()> {
    init_logging(args.log_format, &args.log_level)?;
    let config = eds::connect::config(args.kubeconfig.as_deref(), args.context.as_deref()).await?;
    let client = kube::Client::try_from(config)?;
    let identity = std::env::var("POD_NAME")
        .or_else(|_| std::env::var("HOSTNAME"))
        .unwrap_or_else(|_| format!("eds-{}", std::process::id()));
    let runtime_config = RuntimeConfig {
        scope: WatchScope::parse(&args.watch_namespace),
        validation_mode: args.validation_mode,
        concurrency: args.concurrency,
        max_concurrent_writes: args.max_concurrent_writes.into(),
        identity: identity.clone(),
        expectations_timeout: Duration::from_secs(30),
    };
    let leader_election = args
        .leader_elect
        .then(|| controller::leader::LeaseSettings {
            name: args.leader_elect_lease.clone(),
            namespace: args
                .leader_elect_namespace
                .clone()
                .unwrap_or_else(|| "default".into()),
            identity,
            duration: Duration::from_secs(15),
            grace: Duration::from_secs(5),
        });
    tracing::info!(scope = ?runtime_config.scope, validation_mode = ?runtime_config.validation_mode, leader_elect = args.leader_elect, "starting controller");
    let rt = controller::Runtime {
        client,
        config: runtime_config,
        metrics_listener: Some(controller::health::bind(args.metrics_addr, "metrics").await?),
        health_listener: Some(controller::health::bind(args.health_addr, "health").await?),
        leader_election,
    };
    controller::run(rt, shutdown_signal()).await?;
    Ok(())
}

async fn sim_serve(nodes: usize, kubeconfig: std::path::PathBuf, port: u16) -> anyhow::Result<()> {
    use kube_sim::cluster::{ClusterOptions, SimCluster};
    let cluster = SimCluster::start(ClusterOptions {
        nodes,
        port,
        crds: eds_api::crds(),
        ..Default::default()
    })
    .await?;
    cluster.api.write_kubeconfig(&kubeconfig)?;
    println!(
        "sim ready: {} kubeconfig={}",
        cluster.api.url(),
        kubeconfig.display()
    );
    shutdown_signal().await;
    cluster.stop().await;
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .expect("installing the SIGTERM handler");
        tokio::select! {
            _ = term.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}
