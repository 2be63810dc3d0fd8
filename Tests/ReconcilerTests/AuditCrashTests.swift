import Foundation
import Logging
import Reconciler
import TestSupport
import Testing

@Suite("Audit log: SIGKILL at random points")
struct AuditCrashTests {
    /// Starts an appender, kills it after `delay`, and returns the last seq it acknowledged.
    private func appendThenKill(directory: String, batch: Int, delay: UInt32) throws -> Int64 {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: auditBench())
        process.arguments = ["append", "--dir", directory, "--batch", String(batch)]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        usleep(delay)
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        let acked = text.split(separator: "\n").filter { $0.hasPrefix("acked ") }.compactMap { Int64($0.dropFirst(6)) }
        return acked.last ?? 0
    }

    @Test("after every kill the log is repaired to a verifiable chain that keeps every acknowledged record")
    func killRepeatedly() throws {
        let scratch = try Scratch("pa-crash")
        var random = SystemRandomNumberGenerator()
        var highestAcked: Int64 = 0
        for round in 0..<30 {
            let batch = Int.random(in: 1...20, using: &random)
            let delay = UInt32.random(in: 20_000...250_000, using: &random)
            let acked = try appendThenKill(directory: scratch.path, batch: batch, delay: delay)
            highestAcked = max(highestAcked, acked)

            let store = try SQLiteStateStore(directory: scratch.path)
            let log = try AuditLog(directory: scratch.path, anchors: store, logger: Logger(label: "crash"))
            let verification = try AuditVerifier.verify(fileAt: log.path, anchor: store.auditAnchor())
            #expect(verification.isIntact, "round \(round): \(String(describing: verification.problem))")
            #expect(
                verification.count >= highestAcked, "round \(round): acknowledged \(highestAcked), log has \(verification.count)")
        }
        #expect(highestAcked > 0)
    }
}
