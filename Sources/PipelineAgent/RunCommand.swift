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
        var backoff = Backoff()
        repeat {
            let interval = config.source.pollInterval?.seconds ?? 60
            do {
                let summary = try loop.runOnce()
                backoff.reset()
                for promotion in summary.promotions {
                    print("\(promotion.key): \(promotion.candidate.prefix(12)) \(promotion.status.rawValue)")
                    failed = failed || promotion.status != .succeeded
                }
                if once { break }
                let wake = summary.nextWake.map { max(1, $0.timeIntervalSinceNow) } ?? interval
                signals.sleep(seconds: min(interval, wake) * Double.random(in: 0.9...1.1))
            } catch let error as AuditError {
                throw error
            } catch {
                guard !once else { throw error }
                let delay = backoff.next()
                logger.warning(
                    "pass failed; keeping the last good state", metadata: ["error": "\(error)", "retryIn": "\(Int(delay))s"])
                signals.sleep(seconds: delay)
            }
        } while !cancellation.isCancelled
        loop.notifier.drain()
        try loop.stop(reason: cancellation.isCancelled ? "signal" : "run --once finished")
        withExtendedLifetime(signals) {}
        if once && failed { throw ExitCode.failure }
    }
}

/// Exponential backoff with jitter for a failing source: 5 s, 10 s, 20 s … at most 5 minutes.
struct Backoff {
    private var failures = 0

    mutating func next() -> Double {
        failures += 1
        return min(300, 5 * pow(2, Double(failures - 1))) * Double.random(in: 0.8...1.2)
    }

    mutating func reset() { failures = 0 }
}
