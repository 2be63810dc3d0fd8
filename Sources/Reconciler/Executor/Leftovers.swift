import Foundation
import Synchronization

/// The children the agent started and has not reaped yet: every other child of the agent is an
/// orphan a step left behind (the agent is a child subreaper, so those are re-parented to it).
final class LiveChildren: @unchecked Sendable {
    static let shared = LiveChildren()
    private let lock = NSLock()
    private var pids = Set<pid_t>()

    /// Runs `spawn` under the lock, so that a sweep never sees a fresh child before it is registered.
    func spawning(_ spawn: () -> (Int32, pid_t?)) -> Int32 {
        lock.withLock {
            let (result, pid) = spawn()
            if let pid { pids.insert(pid) }
            return result
        }
    }

    func reaped(_ pid: pid_t) { _ = lock.withLock { pids.remove(pid) } }

    var snapshot: Set<pid_t> { lock.withLock { pids } }
}

/// Kills what a step left running once the step is over — processes in its group, ones that left
/// it with `setsid`, and (for a step that ran as another user) every process of that user — so that
/// nothing outlives its step, holds its output pipe open, or watches the next step of that user.
public enum Leftovers {
    /// Makes the agent the reaper of its descendants' orphans (`PR_SET_CHILD_SUBREAPER`), so that a
    /// daemonised leftover stays visible as the agent's child instead of escaping to init.
    public static func becomeSubreaper() {
        if ProcessControl.set(ProcessControl.childSubreaper, 1) { reaping.withLock { $0 = true } }
    }

    /// Only a subreaper (the agent) may treat its unknown children as orphans: in any other process
    /// (a test runner) they are someone else's children.
    private static let reaping = Mutex(false)

    /// Everything a finished step may have left: its group, the agent's orphans, and `user`'s processes.
    static func kill(group: pid_t, user: StepUser?) {
        Foundation.kill(-group, SIGKILL)
        if let user { killEveryProcess(of: user) }
        reapOrphans()
    }

    /// `kill -9 -1` as the user: the kernel signals every process of that uid in one sweep, and a fork racing
    /// it fails rather than leave a child behind (the kernel restarts a fork that a fatal signal interrupts).
    static func killEveryProcess(of user: StepUser) {
        let devNull = open("/dev/null", O_WRONLY | O_CLOEXEC)
        defer { close(devNull) }
        let spawned = Spawner.spawn("kill -9 -1", directory: "/", environment: [:], outputDescriptor: devNull, user: user)
        guard case .success(let pid) = spawned else { return }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0, errno == EINTR {}
        LiveChildren.shared.reaped(pid)
    }

    /// Kills and reaps every child of the agent that the agent did not start itself (an orphan a step
    /// left, re-parented here), with its descendants; repeats while killing them orphans more.
    static func reapOrphans() {
        guard reaping.withLock({ $0 }) else { return }
        for _ in 0..<20 {
            // Children first, then the registry: a child listed here was forked inside `spawning`, so it is
            // registered by the time the snapshot's lock is free. The other order killed a concurrent
            // promotion's fresh step, forked between the snapshot and the listing.
            let children = ProcessTable.children(of: getpid())
            let live = LiveChildren.shared.snapshot
            let orphans = children.filter { !live.contains($0) }
            guard !orphans.isEmpty else { return }
            for orphan in orphans {
                for pid in ProcessTable.descendants(of: orphan) { Foundation.kill(pid, SIGKILL) }
                Foundation.kill(orphan, SIGKILL)
                var status: Int32 = 0
                while waitpid(orphan, &status, 0) < 0, errno == EINTR {}
            }
        }
    }
}

/// Children of a process, from the kernel's per-thread lists (`/proc/<pid>/task/<tid>/children`): a few
/// small reads, not a walk over every process of the host.
enum ProcessTable {
    static func children(of pid: pid_t) -> [pid_t] {
        let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
        var found: [pid_t] = []
        var readable = false
        for task in tasks {
            guard let text = try? String(contentsOfFile: "/proc/\(pid)/task/\(task)/children", encoding: .utf8) else {
                continue
            }
            readable = true
            found += text.split(separator: " ").compactMap { pid_t($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        }
        // A kernel without CONFIG_PROC_CHILDREN: every process's parent, from /proc/<pid>/stat.
        return readable || tasks.isEmpty ? found : parents().filter { $0.value == pid }.map(\.key)
    }

    /// pid → parent pid of every process.
    private static func parents() -> [pid_t: pid_t] {
        var table: [pid_t: pid_t] = [:]
        for entry in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
            guard let pid = pid_t(entry), let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ')'.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            if fields.count > 1, let parent = pid_t(fields[1]) { table[pid] = parent }
        }
        return table
    }

    static func descendants(of root: pid_t) -> [pid_t] {
        var found: [pid_t] = []
        var frontier = [root]
        while let next = frontier.popLast() {
            let children = children(of: next)
            found += children
            frontier += children
        }
        return found
    }
}
