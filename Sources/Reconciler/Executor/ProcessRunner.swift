import Foundation

/// How a command ended.
public struct ProcessOutcome: Sendable, Hashable {
    public enum Ending: Sendable, Hashable {
        case exited(Int32)
        case signalled(Int32)
        case timedOut
        case interrupted
        case couldNotStart(String)
    }

    public let ending: Ending
    public let duration: Duration
    /// Bytes the command wrote beyond the capture limit, or that could not be written (dropped).
    public let droppedBytes: Int
    /// Why the output file is incomplete (a full disk), or nil.
    public var logFailure: String?

    public var succeeded: Bool { ending == .exited(0) }

    /// The exit status to record: the real one, or 128+signal / -1 like a shell reports them.
    public var exitStatus: Int32 {
        switch ending {
        case .exited(let status): return status
        case .signalled(let signal): return 128 + signal
        case .timedOut, .interrupted, .couldNotStart: return -1
        }
    }
}

/// Runs `/bin/sh -c` commands in their own process group, so that a timeout or a shutdown
/// kills everything the command started, with stdout and stderr captured to one file.
public enum ProcessRunner {
    /// Grace period between SIGTERM and SIGKILL.
    public static let killGrace: Duration = .seconds(2)
    /// How long the output pipe may stay open after the step's group was killed (a process that left
    /// the group with `setsid` still holds it): then the log is closed without it.
    static let leftoverGrace: Duration = .seconds(2)

    public static func run(
        _ command: String, directory: String, environment: [String: String], logPath: String,
        timeout: Duration, captureLimit: Int, cancellation: CancellationFlag? = nil, groupFile: String? = nil,
        user: StepUser? = nil, redactor: SecretRedactor = .none, whenStarted: () -> Void = {}
    ) -> ProcessOutcome {
        let start = ContinuousClock.now
        let output: OutputCapture
        do {
            output = try OutputCapture(path: logPath, limit: captureLimit, redactor: redactor)
        } catch {
            whenStarted()
            return ProcessOutcome(ending: .couldNotStart("cannot open \(logPath): \(error)"), duration: .zero, droppedBytes: 0)
        }
        let spawned = Spawner.spawn(
            command, directory: directory, environment: environment, outputDescriptor: output.writeEnd, user: user)
        output.closeWriteEnd()
        whenStarted()
        guard case .success(let pid) = spawned else {
            output.finish()
            if case .failure(let message) = spawned {
                return ProcessOutcome(ending: .couldNotStart(message.text), duration: .zero, droppedBytes: 0)
            }
            return ProcessOutcome(ending: .couldNotStart("spawn failed"), duration: .zero, droppedBytes: 0)
        }
        // Written so that an agent restarted after a crash can stop what this step left running. Not synced:
        // a crash of the machine ends the step's processes too, and `Data.write` synced it (10 % of a step).
        if let groupFile { writeUnsynced(String(pid), to: groupFile) }
        let ending = wait(pid: pid, deadline: start + timeout, cancellation: cancellation)
        LiveChildren.shared.reaped(pid)
        // The step is over: whatever it left (`./server &`, a `setsid` daemon, anything of its user) dies
        // with it, so that nothing holds the output pipe open and the agent never waits on a leftover.
        Leftovers.kill(group: pid, user: user)
        if let groupFile { try? FileManager.default.removeItem(atPath: groupFile) }
        output.finish(within: leftoverGrace)
        var outcome = ProcessOutcome(ending: ending, duration: ContinuousClock.now - start, droppedBytes: output.dropped)
        outcome.logFailure = output.writeFailure
        return outcome
    }

    private static func wait(
        pid: pid_t, deadline: ContinuousClock.Instant, cancellation: CancellationFlag?
    ) -> ProcessOutcome.Ending {
        let child = ChildExit(pid)
        var graceEnds: ContinuousClock.Instant?
        while true {
            // Woken the moment the child exits; the slices only bound how late a shutdown is noticed.
            let slice = cancellation == nil ? deadline : min(deadline, .now + .milliseconds(100))
            if let ending = child.wait(until: slice) { return ending }
            if ContinuousClock.now >= deadline {
                terminateGroup(pid, child: child)
                return .timedOut
            }
            if let cancellation, cancellation.isCancelled {
                // The agent is stopping: the step may still finish within the grace period.
                let ends = graceEnds ?? .now + cancellation.gracePeriod
                graceEnds = ends
                if ContinuousClock.now >= ends {
                    terminateGroup(pid, child: child)
                    return .interrupted
                }
            }
        }
    }

    /// Kills the process group named in `groupFile` by a crashed agent, if it is still there.
    public static func killLeftover(groupFile: String) {
        guard let text = try? String(contentsOfFile: groupFile, encoding: .utf8), let pid = pid_t(text), pid > 1 else { return }
        kill(-pid, SIGKILL)
        try? FileManager.default.removeItem(atPath: groupFile)
    }

    /// SIGTERM to the whole group, then SIGKILL after the grace period (or as soon as the leader is gone,
    /// for what it left in the group); returns once the leader is reaped.
    static func terminateGroup(_ pid: pid_t, child: ChildExit) {
        kill(-pid, SIGTERM)
        _ = child.wait(until: .now + killGrace)
        kill(-pid, SIGKILL)
        _ = child.wait(until: .now + .seconds(3600))
    }

    static func decode(_ status: Int32) -> ProcessOutcome.Ending {
        let signal = status & 0x7F
        if signal == 0 { return .exited((status >> 8) & 0xFF) }
        return .signalled(signal)
    }
}

/// Waits for one child on a thread of its own, in a blocking `waitpid`: its exit is seen the moment it
/// happens, where polling with `WNOHANG` either misses it by the poll interval or spins.
final class ChildExit: @unchecked Sendable {
    private let exited = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var ending: ProcessOutcome.Ending?

    init(_ pid: pid_t) {
        Thread.detachNewThread { [self] in
            var status: Int32 = 0
            var result = waitpid(pid, &status, 0)
            while result < 0, errno == EINTR { result = waitpid(pid, &status, 0) }
            let ending = result == pid ? ProcessRunner.decode(status) : .exited(-1)
            lock.withLock { self.ending = ending }
            exited.signal()
        }
    }

    /// How the child ended, once it has, waiting at most until `deadline`.
    func wait(until deadline: ContinuousClock.Instant) -> ProcessOutcome.Ending? {
        if let ending = lock.withLock({ ending }) { return ending }
        let left = min(max(.zero, deadline - .now), .seconds(86_400))
        guard exited.wait(timeout: .now() + left.timeInterval) == .success else { return nil }
        return lock.withLock { ending }
    }
}

/// A flag a long-running step checks to stop early (agent shutdown).
public final class CancellationFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    /// How long a running step may go on after cancellation before its process group is killed.
    public let gracePeriod: Duration
    /// Cancelled whenever `parent` is (the agent stopping), and also on its own (a lost lease), which `reset` ends.
    private let parent: CancellationFlag?

    public init(gracePeriod: Duration = .seconds(10), following parent: CancellationFlag? = nil) {
        self.gracePeriod = gracePeriod
        self.parent = parent
    }

    public func cancel() { lock.withLock { cancelled = true } }
    public var isCancelled: Bool { lock.withLock { cancelled } || parent?.isCancelled == true }
    /// Ends this flag's own cancellation (not the parent's).
    public func reset() { lock.withLock { cancelled = false } }
}

/// Replaces `path` with `text`, without the fsync (and temporary file) of `Data.write`.
private func writeUnsynced(_ text: String, to path: String) {
    let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
    guard descriptor >= 0 else { return }
    defer { close(descriptor) }
    let bytes = Array(text.utf8)
    _ = bytes.withUnsafeBytes { write(descriptor, $0.baseAddress, $0.count) }
}
