import Foundation
import Logging
import Reconciler
import TestSupport
import Testing

@Suite("Audit log: format, durability and repair")
struct AuditLogTests {
    @Test("record times: UTC, milliseconds rounded to nearest, carried into the next second")
    func recordTimes() {
        #expect(AuditTime.format(Date(timeIntervalSince1970: 1_700_000_000.043)) == "2023-11-14T22:13:20.043Z")
        #expect(AuditTime.format(Date(timeIntervalSince1970: 1_700_000_000.0426)) == "2023-11-14T22:13:20.043Z")
        #expect(AuditTime.format(Date(timeIntervalSince1970: 1_700_000_000.9996)) == "2023-11-14T22:13:21.000Z")
        #expect(AuditTime.parse("2023-11-14T22:13:20.043Z") == Date(timeIntervalSince1970: 1_700_000_000.043))
    }

    @Test("records carry the contract's fields and chain from the genesis hash")
    func format() throws {
        let fixture = try AuditFixture(records: 2)
        let lines = try fixture.lines()
        let first = try #require(try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        for key in ["seq", "time", "type", "pipeline", "stage", "candidate", "actor", "detail", "prev", "hash"] {
            #expect(first[key] != nil, "missing \(key)")
        }
        #expect(first["prev"] as? String == AuditRecord.genesis)
        #expect((first["time"] as? String)?.hasSuffix("Z") == true)
        let second = try #require(try JSONSerialization.jsonObject(with: Data(lines[1].utf8)) as? [String: Any])
        #expect(second["prev"] as? String == first["hash"] as? String)
    }

    @Test("an auditor recomputes every hash with jq and sha256sum alone")
    func verifiableWithStandardTools() throws {
        let fixture = try AuditFixture(records: 4)
        let script = """
            prev=0000000000000000000000000000000000000000000000000000000000000000
            while IFS= read -r line; do
              want=$(printf '%s' "$line" | jq -r .hash)
              got=$(printf '%s' "$line" | jq -cS 'del(.hash)' | tr -d '\\n' | sha256sum | cut -d' ' -f1)
              link=$(printf '%s' "$line" | jq -r .prev)
              [ "$want" = "$got" ] && [ "$link" = "$prev" ] || { echo "bad record"; exit 1; }
              prev=$want
            done < "$1"
            echo "ok $prev"
            """
        let output = try sh("bash", "-c", script, "verify", fixture.logPath)
        #expect(output == "ok \(try #require(try fixture.store.auditAnchor()).hash)")
    }

    @Test("secrets are redacted from records, including base64 and URL-encoded forms")
    func redaction() throws {
        let scratch = try Scratch()
        let store = try SQLiteStateStore(directory: scratch.path)
        let secret = "s3cr3t/p@ss"
        let log = try AuditLog(
            directory: scratch.path, anchors: store, redactor: SecretRedactor(secrets: [secret]), logger: Logger(label: "t"))
        try log.append(
            AuditEvent(
                "step.finished",
                detail: [
                    "output": .string("password=\(secret)"),
                    "encoded": .string(Data(secret.utf8).base64EncodedString()),
                    "url": .string("https://x/?p=\(secret.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")"),
                ]))
        let text = try String(contentsOfFile: "\(scratch.path)/\(AuditLog.fileName)", encoding: .utf8)
        #expect(!text.contains(secret))
        #expect(!text.contains(Data(secret.utf8).base64EncodedString()))
        #expect(text.contains("password=[REDACTED]"))
        #expect(try AuditVerifier.verify(fileAt: "\(scratch.path)/\(AuditLog.fileName)", anchor: store.auditAnchor()).isIntact)
    }

    @Test("a write failure (file size limit, as on a full disk) stops the writer; nothing acknowledged is lost")
    func writeFailure() throws {
        let scratch = try Scratch()
        let result = try runProcess([
            // The state database's WAL stays under ~300 KiB: the log's limit is reached first.
            auditBench(), "append", "--dir", scratch.path, "--count", "5000", "--file-size-limit", "524288",
        ])
        #expect(result.status == 1)
        #expect(result.stderr.contains("File too large"))
        #expect(result.stderr.contains("refusing to act"))
        let acked = result.stdout.split(separator: "\n").compactMap { Int64($0.split(separator: " ").last ?? "") }
        #expect(!acked.isEmpty && acked.count < 5000)
        let store = try SQLiteStateStore(directory: scratch.path)
        let log = try AuditLog(directory: scratch.path, anchors: store, logger: Logger(label: "t"))
        #expect((log.currentHead?.seq ?? 0) >= acked.last ?? 0)
        #expect(try AuditVerifier.verify(fileAt: log.path, anchor: store.auditAnchor()).isIntact)
    }

    @Test("a crash between the log write and the anchor update is repaired forward, with a record")
    func anchorBehindIsRepaired() throws {
        let fixture = try AuditFixture(records: 4)
        try fixture.store.setAuditAnchor(AuditAnchor(seq: 2, hash: try fixture.lines()[1].hashField()))
        #expect(try fixture.verify().problem?.kind == .anchorBehind)
        let log = try fixture.openLog()
        let head = try #require(log.currentHead)
        #expect(head.seq == 5)
        let repair = try #require(try fixture.lines().last)
        #expect(repair.contains(#""type":"audit.repaired""#))
        #expect(repair.contains(#""anchorFrom":2"#) && repair.contains(#""anchorTo":4"#))
        #expect(try fixture.verify().isIntact)
    }

    @Test("a torn last line is cut off and the cut is recorded")
    func tornTail() throws {
        let fixture = try AuditFixture(records: 3)
        let lines = try fixture.lines()
        try fixture.write(lines: lines + [String(lines[2].prefix(40))], trailingNewline: false)
        let result = try fixture.verify()
        #expect(result.problem?.kind == .tornTail)
        _ = try fixture.openLog()
        let repaired = try fixture.lines()
        #expect(repaired.count == 4)
        #expect(repaired[3].contains(#""discardedBytes":40"#))
        #expect(try fixture.verify().isIntact)
    }
}

extension String {
    func hashField() throws -> String {
        let object = try JSONSerialization.jsonObject(with: Data(utf8)) as? [String: Any]
        return object?["hash"] as? String ?? ""
    }
}
