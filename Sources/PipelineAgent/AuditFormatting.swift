import Foundation
import Reconciler
import SpecModel

/// One aligned line per record, for a person reading the log.
enum AuditTextTable {
    static func render(_ records: [AuditRecord]) -> String {
        let rows = records.map { record -> [String] in
            let place = [record.pipeline, record.stage].compactMap { $0 }.joined(separator: "/")
            return [
                String(record.seq), record.time, record.type, place.isEmpty ? "-" : place,
                record.candidate.map { String($0.prefix(12)) } ?? "-", record.actor, summary(record.detail),
            ].map(\.printable)
        }
        guard !rows.isEmpty else { return "" }
        let widths = (0..<6).map { column in rows.map { $0[column].count }.max() ?? 0 }
        return rows.map { row in
            (0..<6).map { row[$0].padding(toLength: widths[$0], withPad: " ", startingAt: 0) }.joined(separator: "  ")
                + "  " + row[6]
        }.joined(separator: "\n") + "\n"
    }

    static func summary(_ detail: [String: JSONValue]) -> String {
        detail.keys.sorted().map { key in
            let value = detail[key] ?? .null
            if case .string(let text) = value { return "\(key)=\(text)" }
            return "\(key)=\(CanonicalJSON.serialize(value))"
        }.joined(separator: " ")
    }
}

/// RFC 4180 CSV of audit records.
enum AuditCSV {
    static let header = "seq,time,type,pipeline,stage,candidate,actor,detail,prev,hash"

    static func render(_ records: [AuditRecord]) -> String {
        var lines = [header]
        for record in records {
            let fields = [
                String(record.seq), record.time, record.type, record.pipeline ?? "", record.stage ?? "",
                record.candidate ?? "", record.actor, CanonicalJSON.serialize(.object(record.detail)), record.prev, record.hash,
            ]
            lines.append(fields.map(quote).joined(separator: ","))
        }
        return lines.joined(separator: "\r\n") + "\r\n"
    }

    static func quote(_ field: String) -> String {
        guard field.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return field }
        return "\"" + field.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}

/// Ages such as `2h` for `--since`, using the spec's duration notation.
enum SpecDurationParser {
    static func seconds(_ text: String) -> TimeInterval? {
        SpecDuration(text)?.seconds
    }
}
