// audit-bench: figures for the audit log (appends per second with fsync, verify time), and an
// append loop that acknowledges each batch, used by the crash test to kill it at random points.
import Foundation
import Logging
import Reconciler

func argument(_ name: String, default value: Int) -> Int {
    guard let index = CommandLine.arguments.firstIndex(of: name), index + 1 < CommandLine.arguments.count else { return value }
    return Int(CommandLine.arguments[index + 1]) ?? value
}

func argument(_ name: String) -> String? {
    guard let index = CommandLine.arguments.firstIndex(of: name), index + 1 < CommandLine.arguments.count else { return nil }
    return CommandLine.arguments[index + 1]
}

func openLog(_ directory: String) throws -> AuditLog {
    try AuditLog(directory: directory, anchors: SQLiteStateStore(directory: directory), logger: Logger(label: "audit-bench"))
}

func event(_ index: Int) -> AuditEvent {
    AuditEvent(
        "step.finished", pipeline: "olist-analytics", stage: "staging", candidate: "3f2c9e1d0b7a6c5e4d3f2a1b0c9d8e7f6a5b4c3d",
        detail: [
            "step": "build", "exitStatus": 0, "durationMs": .int(Int64(6_000 + index % 1000)),
            "outputSHA256": "9b74c9897bac770ffc029102a200c5de9b74c9897bac770ffc029102a200c5de",
            "log": "steps/42/build.log",
        ])
}

/// Appends forever (or `--count` records) in batches, printing `acked SEQ` after each batch is durable.
func appendLoop() throws {
    if let limit = argument("--file-size-limit").flatMap(UInt.init) {
        // Simulate a full disk: writes past the limit fail with EFBIG instead of killing us.
        signal(SIGXFSZ, SIG_IGN)
        var rlimit = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t(limit))
        setrlimit(__rlimit_resource_t(RLIMIT_FSIZE.rawValue), &rlimit)
    }
    let log = try openLog(argument("--dir") ?? ".")
    let batch = argument("--batch", default: 1)
    let count = argument("--count", default: .max)
    var written = 0
    while written < count {
        let records = try log.append((0..<batch).map { event(written + $0) })
        written += batch
        print("acked \(records.last?.seq ?? 0)")
        fflush(nil)
    }
}

func measure(_ label: String, records: Int, _ body: () throws -> Void) rethrows {
    let start = ContinuousClock.now
    try body()
    let seconds =
        Double((ContinuousClock.now - start).components.attoseconds) / 1e18
        + Double((ContinuousClock.now - start).components.seconds)
    let rate = Double(records) / seconds
    print(String(format: "%-44@ %10d records %8.3f s %12.0f /s", label as NSString, records, seconds, rate))
}

func figures() throws {
    let base = FileManager.default.temporaryDirectory.appendingPathComponent("audit-bench-\(UUID().uuidString.prefix(8))").path
    defer { try? FileManager.default.removeItem(atPath: base) }
    let single = try openLog("\(base)/single")
    try measure("append, one record per fsync", records: 500) {
        for index in 0..<500 { try single.append(event(index)) }
    }
    let batched = try openLog("\(base)/batched")
    try measure("append, batches of 100 per fsync", records: 50_000) {
        for round in 0..<500 { try batched.append((0..<100).map { event(round * 100 + $0) }) }
    }
    let large = argument("--verify-records", default: 1_000_000)
    let big = try openLog("\(base)/big")
    try measure("append, batches of 10000 (building the log)", records: large) {
        for round in 0..<(large / 10_000) { try big.append((0..<10_000).map { event(round * 10_000 + $0) }) }
    }
    let anchor = try SQLiteStateStore(directory: "\(base)/big").auditAnchor()
    var verification: AuditVerification?
    try measure("verify (hash chain + anchor)", records: large) {
        verification = try AuditVerifier.verify(fileAt: "\(base)/big/\(AuditLog.fileName)", anchor: anchor)
    }
    var reopened: AuditLog?
    try measure("open at start (tail after the verified point)", records: large) { reopened = try openLog("\(base)/big") }
    measure("background check of the older records", records: large) { _ = reopened?.awaitFullCheck() }
    let size = (try? FileManager.default.attributesOfItem(atPath: "\(base)/big/\(AuditLog.fileName)")[.size] as? Int) ?? 0
    print("verified \(verification?.count ?? 0) records (\(size / 1_048_576) MiB), intact: \(verification?.isIntact ?? false)")
}

do {
    switch CommandLine.arguments.dropFirst().first {
    case "append": try appendLoop()
    case "figures", nil: try figures()
    case "planner": try plannerFigures(count: argument("--pipelines", default: 1000))
    case "postgres": try postgresFigures(url: argument("--url") ?? "", records: argument("--records", default: 2000))
    default:
        print(
            "usage: audit-bench [figures [--verify-records N]] | planner [--pipelines N] | postgres --url URL [--records N] | append --dir DIR [--batch N] [--count N] [--file-size-limit BYTES]"
        )
        exit(2)
    }
} catch {
    FileHandle.standardError.write(Data("audit-bench: \(error)\n".utf8))
    exit(1)
}
