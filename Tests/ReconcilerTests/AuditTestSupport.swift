import Foundation
import Logging
import Reconciler
import TestSupport

/// A state directory with a store and a log of `count` records.
struct AuditFixture {
    let scratch: Scratch
    let directory: String
    let store: SQLiteStateStore

    init(records count: Int) throws {
        scratch = try Scratch("pa-audit")
        directory = scratch.sub("state")
        store = try SQLiteStateStore(directory: directory)
        let log = try openLog()
        for index in 1...max(count, 1) where count > 0 {
            try log.append(
                AuditEvent(
                    "step.finished", pipeline: "olist", stage: "dev", candidate: String(repeating: "a", count: 40),
                    detail: ["index": .int(Int64(index)), "note": .string("line \(index) \"quoted\" é\t\u{01}")]))
        }
    }

    var logPath: String { "\(directory)/\(AuditLog.fileName)" }

    func openLog() throws -> AuditLog {
        try AuditLog(directory: directory, anchors: store, logger: Logger(label: "test"))
    }

    func lines() throws -> [String] {
        try String(contentsOfFile: logPath, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false)
            .dropLast().map(String.init)
    }

    func write(lines: [String], trailingNewline: Bool = true) throws {
        let text = lines.joined(separator: "\n") + (trailingNewline && !lines.isEmpty ? "\n" : "")
        try Data(text.utf8).write(to: URL(fileURLWithPath: logPath))
    }

    func verify() throws -> AuditVerification {
        try AuditVerifier.verify(fileAt: logPath, anchor: store.auditAnchor())
    }
}

/// The audit-bench executable built next to the tests.
func auditBench() -> String {
    URL(fileURLWithPath: agentBinary()).deletingLastPathComponent().appendingPathComponent("audit-bench").path
}
