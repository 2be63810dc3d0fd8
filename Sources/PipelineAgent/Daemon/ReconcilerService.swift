import Foundation
import Logging
import Reconciler
import ServiceLifecycle

/// The reconcile loop as a service: it runs on its own thread (git, SQLite and steps block), wakes
/// on the poll interval, a due timer or a webhook, and on graceful shutdown starts no new step.
final class ReconcilerService: Service, @unchecked Sendable {
    // Touched only by the loop's own thread once `run` starts it.
    let loop: ReconcileLoop
    let session: AgentSession
    let runtime: AgentRuntime
    let logger: Logger

    init(loop: ReconcileLoop, session: AgentSession, runtime: AgentRuntime, logger: Logger) {
        self.loop = loop
        self.session = session
        self.runtime = runtime
        self.logger = logger
    }

    func run() async throws {
        // Cancellation too: when another service of the group fails (the HTTP port is taken), the group
        // cancels instead of shutting down gracefully, and the loop's thread must still be told to stop.
        try await withTaskCancellationOrGracefulShutdownHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, Error>) in
                let thread = Thread { continuation.resume(with: Result { try self.runLoop() }) }
                thread.stackSize = 8 << 20
                thread.start()
            }
        } onCancelOrGracefulShutdown: { [runtime] in
            runtime.stop()
        }
    }

    private func runLoop() throws {
        loop.onFetch = { [runtime] error in
            if let error { runtime.fetchFailed(error) } else { runtime.fetchSucceeded() }
        }
        loop.onPromotionEnd = { [runtime] in runtime.wakeUp() }
        loop.onMembershipChange = { [runtime] in runtime.wakeUp() }
        do {
            try loop.start()
            runtime.loopStarted()
            try passUntilStopped()
            runtime.loopStopped("stopping")
        } catch {
            // Promotions under way are interrupted (and recorded as such) before the agent exits.
            runtime.cancellation.cancel()
            try? loop.waitForPromotions()
            runtime.loopStopped("\(error)")
            logger.critical("the reconcile loop stopped", metadata: ["error": "\(error)"])
            throw error
        }
    }

    private func passUntilStopped() throws {
        var backoff = Backoff()
        while !runtime.cancellation.isCancelled {
            let started = ContinuousClock.now
            do {
                // Promotions run on their own threads; fetching, planning and webhooks go on meanwhile.
                let summary = try loop.runOnce(waitForPromotions: false, fetchAtOnce: runtime.takePush())
                backoff.reset()
                runtime.planned(summary.plan)
                runtime.metrics.record(summary, passTime: ContinuousClock.now - started, store: session.store)
                for promotion in summary.promotions {
                    logger.info(
                        "promotion \(promotion.status.rawValue)",
                        metadata: ["stage": "\(promotion.key)", "candidate": "\(promotion.candidate)"])
                }
                let wake = summary.nextWake.map { max(1, $0.timeIntervalSinceNow) } ?? runtime.pollInterval
                runtime.sleep(seconds: min(runtime.pollInterval * Double.random(in: 0.9...1.1), wake))
            } catch {
                runtime.metrics.recordFailure()
                switch PassFailure.classify(error) {
                case .fatal:
                    throw error
                case .needsHuman(let reason):
                    backoff.reset()
                    logger.error("pass failed; waiting for a fix", metadata: ["error": "\(reason)"])
                    runtime.sleep(seconds: runtime.pollInterval)
                case .transient(let reason):
                    let delay = backoff.next()
                    logger.warning(
                        "pass failed; keeping the last good state", metadata: ["error": "\(reason)", "retryIn": "\(Int(delay))s"])
                    runtime.sleep(seconds: delay)
                }
            }
        }
        // Each running promotion sees the cancellation, ends within the grace period and records how.
        try loop.waitForPromotions()
        loop.recorder.drainNotifications(timeout: .seconds(10))
        try loop.stop(reason: "signal")
    }
}
