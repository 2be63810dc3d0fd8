import Crypto
import Foundation

/// Walks canonical audit lines in order, checking hash, sequence and link of each.
struct ChainWalker {
    private static let hashKey = Array(#","hash":""#.utf8)
    private static let prevKey = Array(#""prev":""#.utf8)
    private static let seqKey = Array(#""seq":"#.utf8)

    private(set) var seq: Int64 = 0
    private(set) var hash: [UInt8] = Array(repeating: 0, count: 32)
    /// The record whose hash the anchor names, kept for the anchor check at the end.
    let anchorSeq: Int64?
    private(set) var anchoredHash: [UInt8]?
    var problem: AuditProblem?

    init(anchorSeq: Int64?) {
        self.anchorSeq = anchorSeq
    }

    /// Continues a chain verified up to record `seq` with hash `hash` (the tail check at start).
    init(resumingAt seq: Int64, hash: [UInt8], anchorSeq: Int64?) {
        self.seq = seq
        self.hash = hash
        self.anchorSeq = anchorSeq
        if seq == anchorSeq { anchoredHash = hash }
    }

    /// A canonical record whose hash field matches its content: its seq, hash and prev.
    enum Parsed {
        case record(seq: Int64, hash: [UInt8], prev: [UInt8])
        case notARecord
        case hashMismatch(seq: Int64)
    }

    static func parse(_ line: UnsafeBufferPointer<UInt8>) -> Parsed {
        guard line.first == UInt8(ascii: "{"), line.last == UInt8(ascii: "}"),
            let hashAt = lastIndex(of: hashKey, in: line),
            let claimed = hexBytes(line, at: hashAt + hashKey.count),
            let prevAt = lastIndex(of: prevKey, in: line),
            let prev = hexBytes(line, at: prevAt + prevKey.count),
            let seqAt = lastIndex(of: seqKey, in: line),
            let recordSeq = integer(line, at: seqAt + seqKey.count)
        else { return .notARecord }
        var hasher = SHA256()
        hasher.update(bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: line[..<hashAt])))
        hasher.update(
            bufferPointer: UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: line[(hashAt + hashKey.count + 65)...])))
        let computed = Array(hasher.finalize())
        return computed == claimed ? .record(seq: recordSeq, hash: computed, prev: prev) : .hashMismatch(seq: recordSeq)
    }

    mutating func consume(_ line: UnsafeBufferPointer<UInt8>) {
        let expected = seq + 1
        switch Self.parse(line) {
        case .notARecord:
            return fail(expected, .notARecord, "line \(expected) is not a canonical audit record")
        case .hashMismatch(let recordSeq):
            return fail(recordSeq, .hashMismatch, "the record's content does not match its hash (edited?)")
        case .record(let recordSeq, let computed, let prev):
            guard recordSeq == expected else {
                return fail(
                    expected, .gap, "expected seq \(expected), found \(recordSeq) (record removed, inserted or reordered)")
            }
            guard prev == hash || (seq == 0 && prev == Array(repeating: 0, count: 32)) else {
                return fail(recordSeq, .brokenLink, "prev does not match the hash of seq \(seq)")
            }
            seq = recordSeq
            hash = computed
            if recordSeq == anchorSeq { anchoredHash = computed }
        }
    }

    private mutating func fail(_ seq: Int64, _ kind: AuditProblem.Kind, _ message: String) {
        problem = AuditProblem(seq: seq, kind: kind, message: message)
    }

    static func lastIndex(of needle: [UInt8], in line: UnsafeBufferPointer<UInt8>) -> Int? {
        guard line.count >= needle.count else { return nil }
        var index = line.count - needle.count
        while index >= 0 {
            if line[index] == needle[0], line[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index -= 1
        }
        return nil
    }

    /// 64 hex digits followed by a quote, as 32 bytes.
    static func hexBytes(_ line: UnsafeBufferPointer<UInt8>, at start: Int) -> [UInt8]? {
        guard start + 65 <= line.count, line[start + 64] == UInt8(ascii: "\"") else { return nil }
        var bytes = [UInt8](repeating: 0, count: 32)
        for index in 0..<32 {
            guard let high = nibble(line[start + 2 * index]), let low = nibble(line[start + 2 * index + 1]) else { return nil }
            bytes[index] = high << 4 | low
        }
        return bytes
    }

    static func nibble(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        default: return nil
        }
    }

    static func integer(_ line: UnsafeBufferPointer<UInt8>, at start: Int) -> Int64? {
        var value: Int64 = 0
        var index = start
        while index < line.count, let digit = nibble(line[index]), digit < 10 {
            let (shifted, overflow) = value.multipliedReportingOverflow(by: 10)
            guard !overflow else { return nil }
            value = shifted + Int64(digit)
            index += 1
        }
        return index > start ? value : nil
    }
}
