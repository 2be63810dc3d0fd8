import Foundation

/// What the agent process does to itself before it runs any step (`run`, `plan`): its files private,
/// its memory and environment unreadable by steps, the orphans of steps its own to kill.
public enum AgentProcess {
    /// Files the agent creates are 0600 and directories 0700 (umask 077); the state directory is made
    /// 0700 even when it already existed looser; the process is not dumpable and becomes a subreaper.
    public static func harden(stateDirectory: String) throws {
        umask(0o077)
        try FileManager.default.createDirectory(atPath: stateDirectory, withIntermediateDirectories: true)
        guard chmod(stateDirectory, 0o700) == 0 else {
            throw HardeningError(
                description: "cannot make the state directory \(stateDirectory) private (chmod 0700): "
                    + String(cString: strerror(errno)))
        }
        guard ProcessControl.makeNotDumpable() else {
            throw HardeningError(description: "cannot make the agent non-dumpable (prctl PR_SET_DUMPABLE)")
        }
        Leftovers.becomeSubreaper()
    }
}

/// The agent could not protect itself; it does not start.
public struct HardeningError: Error, CustomStringConvertible {
    public let description: String
}

/// `execution.requireIsolation` is set and some stage's steps would run as the agent's own user.
public struct IsolationRequired: Error, CustomStringConvertible {
    public let summary: String
    public var description: String {
        "execution.requireIsolation is true, but \(summary); the agent does not start"
    }
}

extension StepIsolation {
    /// Throws when the config requires isolation that this host cannot give.
    public func enforce(_ required: Bool) throws {
        if required, !isComplete { throw IsolationRequired(summary: summary) }
    }
}
