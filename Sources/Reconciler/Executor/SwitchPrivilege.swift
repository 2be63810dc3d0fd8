import Foundation

/// Whether this agent can run steps as other users: as root, or as a user holding exactly the capabilities the
/// switch needs (a container's non-root agent; docs/operations.md, "Isolation without root").
enum SwitchPrivilege {
    /// Capabilities a non-root agent needs itself: hand checkouts to step users (chown), remove what they wrote
    /// (fowner, dac_override) and kill what they left (kill).
    static let agentCapabilities: [(bit: Int, name: String)] = [
        (0, "cap_chown"), (1, "cap_dac_override"), (3, "cap_fowner"), (5, "cap_kill"),
    ]
    /// Capabilities the switcher needs as file capabilities when the agent is not root.
    static let switcherCapabilities: [(bit: Int, name: String)] = [(6, "cap_setgid"), (7, "cap_setuid")]

    /// Why the switch cannot be made safely here; empty when it can.
    static func problems(switcher: String, stepGroups: [gid_t]) -> [String] {
        guard FileManager.default.isExecutableFile(atPath: switcher) else { return ["\(switcher) (util-linux) is missing"] }
        guard geteuid() != 0 else { return [] }
        var problems: [String] = []
        let effective = effectiveCapabilities()
        let missing = agentCapabilities.filter { effective & (1 << UInt64($0.bit)) == 0 }.map(\.name)
        if !missing.isEmpty {
            problems.append(
                "the agent is not root (uid \(geteuid())) and lacks \(missing.joined(separator: ",")), so it cannot switch "
                    + "users: run it as root, or give its binary setcap cap_chown,cap_dac_override,cap_fowner,cap_kill+ep")
        }
        let fileCaps = fileCapabilities(switcher)
        let switcherMissing = switcherCapabilities.filter { fileCaps & (1 << UInt64($0.bit)) == 0 }.map(\.name)
        if !switcherMissing.isEmpty {
            problems.append(
                "the agent is not root and \(switcher) has no \(switcherMissing.joined(separator: ",")) file capability, "
                    + "so it cannot switch users: install a copy only the agent's group may run (mode 0750) with "
                    + "setcap cap_setuid,cap_setgid+ep and name it in execution.setpriv")
        }
        var info = stat()
        if stat(switcher, &info) == 0, fileCaps != 0,
            info.st_mode & S_IXOTH != 0 || stepGroups.contains(info.st_gid)
        {
            problems.append(
                "any step user may run \(switcher), which holds cap_setuid: a step could become any user "
                    + "(chmod o-x it and give it a group no step user has)")
        }
        return problems
    }

    /// The effective capability set of this process (`CapEff` of /proc/self/status).
    static func effectiveCapabilities() -> UInt64 {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("CapEff:") })
        else { return 0 }
        return UInt64(line.dropFirst("CapEff:".count).trimmingCharacters(in: .whitespaces), radix: 16) ?? 0
    }

    /// The permitted file capabilities of `path` when they are also effective at exec (`+ep`), else 0.
    static func fileCapabilities(_ path: String) -> UInt64 {
        var buffer = [UInt8](repeating: 0, count: 24)
        guard let getxattr else { return 0 }
        let size = getxattr(path, "security.capability", &buffer, buffer.count)
        guard size >= 20 else { return 0 }
        func word(_ offset: Int) -> UInt64 {
            (0..<4).reduce(UInt64(0)) { $0 | UInt64(buffer[offset + $1]) << UInt64(8 * $1) }
        }
        // vfs_cap_data: magic_etc (its lowest bit: effective), then permitted/inheritable, low and high words.
        guard word(0) & 1 == 1 else { return 0 }
        return word(4) | word(12) << 32
    }

    private typealias GetXattr =
        @convention(c) (UnsafePointer<CChar>?, UnsafePointer<CChar>?, UnsafeMutableRawPointer?, Int) -> Int

    /// glibc's `getxattr`, which its Swift module does not export.
    private static let getxattr: GetXattr? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "getxattr") else { return nil }
        return unsafeBitCast(symbol, to: GetXattr.self)
    }()
}
