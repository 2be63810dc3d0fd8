import ArgumentParser
import Foundation
import Logging
import Reconciler

/// `pipeline-agent run`: the agent. With `--once`: one fetch, reconcile until quiescent, exit.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the agent: fetch, plan and promote; with --once, stop when nothing can progress without waiting.",
        discussion: """
            Exit status with --once: 0 when every promotion succeeded (or none was due), 1 when one failed.
            Without --once the agent polls every source.pollInterval (default 60s) until SIGTERM or SIGINT;
            a running step is then stopped, its promotion recorded as interrupted, and agent.stopped written.
            """
    )

    @OptionGroup var options: ConfigOptions

    @Flag(help: "One fetch, reconcile until quiescent, then exit.")
    var once = false

    func run() throws {
        let config = try options.load()
        let logger = Logger(label: "pipeline-agent")
        let cancellation = CancellationFlag()
        let session = try AgentSession(config: config, logger: logger)
        let loop = try ReconcileLoop(session: session, cancellation: cancellation)
        let signals = SignalWatcher(cancellation: cancellation)
        try loop.start()
        var failed = false
        repeat {
            let summary = try loop.runOnce()
            for promotion in summary.promotions {
                print("\(promotion.key): \(promotion.candidate.prefix(12)) \(promotion.status.rawValue)")
                failed = failed || promotion.status != .succeeded
            }
            if once { break }
            let interval = config.source.pollInterval?.seconds ?? 60
            let wake = summary.plan?.nextWake.map { max(1, $0.timeIntervalSinceNow) } ?? interval
            signals.sleep(seconds: min(interval, wake) * Double.random(in: 0.9...1.1))
        } while !cancellation.isCancelled
        try loop.stop(reason: cancellation.isCancelled ? "signal" : "run --once finished")
        withExtendedLifetime(signals) {}
        if once && failed { throw ExitCode.failure }
    }
}
