import Dispatch
import Foundation
import Reconciler

/// Turns SIGTERM and SIGINT into a cancellation the agent checks between and during steps.
final class SignalWatcher: @unchecked Sendable {
    private let sources: [DispatchSourceSignal]
    private let wake = DispatchSemaphore(value: 0)

    init(cancellation: CancellationFlag) {
        let semaphore = wake
        sources = [SIGTERM, SIGINT].map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler {
                cancellation.cancel()
                semaphore.signal()
            }
            source.resume()
            return source
        }
    }

    /// Sleeps, waking early when a signal arrives.
    func sleep(seconds: Double) {
        _ = wake.wait(timeout: .now() + seconds)
    }
}
