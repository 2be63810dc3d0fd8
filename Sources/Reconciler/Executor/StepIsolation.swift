import Foundation
import SpecModel

/// An OS user that steps run as.
public struct StepUser: Sendable, Hashable {
    public let name: String
    public let uid: uid_t
    public let gid: gid_t
    public let home: String
    /// The program that switches to this user before `/bin/sh` (`setpriv`).
    public var switcher = StepIsolation.defaultSwitcher

    /// Looks the user up in the system's user database.
    static func lookup(_ name: String) -> StepUser? {
        guard let entry = getpwnam(name) else { return nil }
        let home = entry.pointee.pw_dir.map { String(cString: $0) } ?? "/"
        return StepUser(name: name, uid: entry.pointee.pw_uid, gid: entry.pointee.pw_gid, home: home)
    }
}

/// Which OS user each stage's processes run as, and why steps run as the agent's own user when they
/// cannot be switched (`execution.stepUser`, `execution.users`; docs/operations.md, "Isolation").
public struct StepIsolation: Sendable {
    /// The program that switches users before `/bin/sh` unless `execution.setpriv` names another (util-linux).
    static let defaultSwitcher = "/usr/bin/setpriv"

    let defaultUser: StepUser?
    let users: [(pattern: String, user: StepUser)]
    /// Why some or all steps run as the agent's own user; empty when every stage is isolated.
    public let problems: [String]

    /// No switching: every process runs as the agent (in-process tests, or no `execution` config).
    public static let none = StepIsolation(defaultUser: nil, users: [], problems: ["no execution.stepUser is configured"])

    /// Resolves the configured users against this host; never throws, says what it could not do.
    public static func resolve(_ config: ExecutionConfig?) -> StepIsolation {
        guard let config, config.stepUser != nil || !(config.users ?? [:]).isEmpty else { return .none }
        var problems: [String] = []
        let switcher = config.setpriv ?? defaultSwitcher
        func usable(_ name: String) -> StepUser? {
            guard var user = StepUser.lookup(name) else {
                problems.append("user \(name) does not exist (create it: useradd --system --create-home \(name))")
                return nil
            }
            guard user.uid != 0, user.uid != geteuid() else {
                problems.append("user \(name) is uid \(user.uid), which is the agent's or root's")
                return nil
            }
            user.switcher = switcher
            return user
        }
        let fallback = config.stepUser.flatMap(usable)
        let mapped = (config.users ?? [:]).sorted { $0.key < $1.key }.compactMap { entry in
            usable(entry.value).map { (pattern: entry.key, user: $0) }
        }
        let privilege = SwitchPrivilege.problems(
            switcher: switcher, stepGroups: ([fallback] + mapped.map(\.user)).compactMap { $0?.gid })
        problems.insert(contentsOf: privilege, at: 0)
        if config.stepUser == nil { problems.append("no execution.stepUser for stages that execution.users does not name") }
        guard privilege.isEmpty else {
            return StepIsolation(defaultUser: nil, users: [], problems: problems)
        }
        return StepIsolation(defaultUser: fallback, users: mapped, problems: problems)
    }

    /// The user a stage's processes run as; nil: the agent's own user.
    public func user(for key: StageKey) -> StepUser? {
        users.first { ProtectFloor.glob($0.pattern, matches: key.description) }?.user ?? defaultUser
    }

    /// True when no stage runs as the agent's own user.
    public var isComplete: Bool { problems.isEmpty }

    /// One line for `run`, `status` and `validate --config`.
    public var summary: String {
        var parts: [String] = []
        if let defaultUser { parts.append("steps run as \(defaultUser.name) (uid \(defaultUser.uid))") }
        parts += users.map { "\($0.pattern) as \($0.user.name) (uid \($0.user.uid))" }
        let own = getpwuid(geteuid())?.pointee.pw_name.map { String(cString: $0) } ?? "uid \(geteuid())"
        if !problems.isEmpty {
            parts.append(
                "NOT ISOLATED: \(parts.isEmpty ? "steps" : "other stages' steps") run as the agent's own user \(own): "
                    + problems.joined(separator: "; "))
        }
        return parts.joined(separator: "; ")
    }
}
