import Foundation

/// `prctl(2)`, which Glibc's Swift module does not export (its header is not in the module map).
public enum ProcessControl {
    static let dumpable: Int32 = 4  // PR_SET_DUMPABLE
    static let childSubreaper: Int32 = 36  // PR_SET_CHILD_SUBREAPER

    private typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32

    private static let prctl: Prctl? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "prctl") else { return nil }
        return unsafeBitCast(symbol, to: Prctl.self)
    }()

    /// Sets one process attribute; false when the call failed or is unavailable.
    static func set(_ option: Int32, _ value: UInt) -> Bool {
        prctl?(option, value, 0, 0, 0) == 0
    }

    /// Makes the agent not dumpable: no core file, no ptrace, and its `/proc/<pid>/environ` and memory
    /// belong to root, so a step running as the same user cannot read the agent's secrets there.
    public static func makeNotDumpable() -> Bool { set(dumpable, 0) }
}
