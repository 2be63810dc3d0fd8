import CGit2
import Foundation

/// libgit2 needs one global initialisation; Swift runs a global's initialiser exactly once.
private let libgit2Initialisation: Int32 = {
    let count = git_libgit2_init()
    // Each commit compared reads its parent's trees again; without this, trees over 4 KiB are never cached.
    _ = pa_git_set_tree_cache_limit(1 << 20)
    return count
}()

/// Makes sure libgit2 is initialised before any call into it.
func ensureLibgit2() {
    _ = libgit2Initialisation
}

/// Process-wide libgit2 settings.
public enum Libgit2 {
    /// Turns libgit2's check that a repository belongs to the current user on or off.
    public static func setOwnerValidation(_ enabled: Bool) throws {
        ensureLibgit2()
        try check(pa_git_set_owner_validation(enabled ? 1 : 0), "set owner validation")
    }

    /// The linked libgit2 version, e.g. "1.5.1".
    public static var version: String {
        var major: Int32 = 0
        var minor: Int32 = 0
        var revision: Int32 = 0
        git_libgit2_version(&major, &minor, &revision)
        return "\(major).\(minor).\(revision)"
    }
}

extension ObjectID {
    init(_ oid: git_oid) {
        var copy = oid
        var buffer = [CChar](repeating: 0, count: 41)
        git_oid_fmt(&buffer, &copy)
        buffer[40] = 0
        // git_oid_fmt writes exactly 40 hex digits, so this always parses.
        self.hex = String(decoding: buffer.prefix(40).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    init(_ pointer: UnsafePointer<git_oid>) {
        self.init(pointer.pointee)
    }

    var oid: git_oid {
        var oid = git_oid()
        git_oid_fromstr(&oid, hex)
        return oid
    }
}

extension Person {
    init(_ signature: UnsafePointer<git_signature>) {
        let value = signature.pointee
        self.init(
            name: value.name.map { String(cString: $0) } ?? "",
            email: value.email.map { String(cString: $0) } ?? "",
            time: Date(timeIntervalSince1970: TimeInterval(value.when.time)),
            utcOffsetMinutes: Int(value.when.offset))
    }
}
