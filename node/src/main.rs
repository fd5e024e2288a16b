//! `alpr-node`: the one binary that runs on every car and station.

fn main() -> std::process::ExitCode {
    alpr_node::cli::main()
}
