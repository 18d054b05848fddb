//! `kubectl_complete-eds`: shell completion of `kubectl eds` through kubectl's plugin
//! completion (kubectl 1.26+ runs it with the plugin's arguments, the last one being the word
//! to complete). Installed next to `kubectl-eds` on the PATH.

use std::io::Write;

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let words: Vec<String> = std::env::args().skip(1).collect();
    let answer = eds::plugin::complete::complete(&words).await;
    let _ = std::io::stdout().write_all(answer.as_bytes());
}
