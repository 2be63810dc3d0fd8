import Crypto
import Foundation

/// What is wrong with an audit log, at the first record where it shows.
public struct AuditProblem: Sendable, Hashable, CustomStringConvertible {
    public enum Kind: String, Sendable {
        case notARecord = "not a record"
        case hashMismatch = "hash mismatch"
        case brokenLink = "broken link"
        case gap = "gap"
        case tornTail = "incomplete last record"
        case missingTail = "missing tail"
        case anchorMismatch = "anchor mismatch"
        case anchorBehind = "anchor behind log"
        case noAnchor = "no anchor"
    }

    public let seq: Int64
    public let kind: Kind
    public let message: String

    public var description: String { "seq \(seq): \(kind.rawValue): \(message)" }
}

/// The outcome of checking a whole log against its anchor.
public struct AuditVerification: Sendable {
    /// Records that passed before the first problem (all of them when intact).
    public let count: Int64
    /// The last good record's seq and hash.
    public let head: AuditAnchor?
    public let problem: AuditProblem?
    /// Bytes after the last newline (an append cut short).
    public let tornBytes: Int

    public var isIntact: Bool { problem == nil }
}

/// Recomputes the hash chain straight from the bytes. Each line is canonical JSON, so the hash
/// covers the line minus its `,"hash":"…"` member; no JSON parsing is needed on the hot path.
public enum AuditVerifier {
    /// Verifies the log file at `path` (a missing file is an empty log).
    public static func verify(fileAt path: String, anchor: AuditAnchor?) throws -> AuditVerification {
        guard FileManager.default.fileExists(atPath: path) else { return verify(Data(), anchor: anchor) }
        return try stream(path, upTo: nil, anchor: anchor)
    }

    /// Verifies log contents against an anchor.
    public static func verify(_ contents: Data, anchor: AuditAnchor?) -> AuditVerification {
        walk(contents, from: 0, chain: ChainWalker(anchorSeq: anchor?.seq), anchor: anchor)
    }

    /// Verifies only the records after `anchor.end`, once the anchored record is found ending there with its
    /// seq and hash; nil when it is not (then only a full verification can say what is wrong). What comes
    /// before was verified when it was written and is checked again by `verifyPrefix`.
    public static func verifyTail(_ contents: Data, anchor: AuditAnchor) -> AuditVerification? {
        guard let end = anchor.end.map(Int.init), end > 0, contents.count >= end else { return nil }
        let resumed = contents.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> ChainWalker? in
            let bytes = buffer.bindMemory(to: UInt8.self)
            guard bytes[end - 1] == 0x0A else { return nil }
            var start = end - 1
            while start > 0, bytes[start - 1] != 0x0A { start -= 1 }
            guard case .record(let seq, let hash, _) = ChainWalker.parse(UnsafeBufferPointer(rebasing: bytes[start..<(end - 1)])),
                seq == anchor.seq, hex(hash) == anchor.hash
            else { return nil }
            return ChainWalker(resumingAt: seq, hash: hash, anchorSeq: anchor.seq)
        }
        guard let resumed else { return nil }
        return walk(contents, from: end, chain: resumed, anchor: anchor)
    }

    /// Verifies the records before `anchor.end` (the part `verifyTail` took on trust) and that they end at
    /// the anchored record. Read in chunks, not mapped: the file may be cut by another process meanwhile, which
    /// must give a problem, not a bus error.
    public static func verifyPrefix(fileAt path: String, anchor: AuditAnchor) throws -> AuditVerification {
        try stream(path, upTo: anchor.end, anchor: anchor)
    }

    /// Verifies the file's first `end` bytes (all of them when nil) in chunks.
    private static func stream(_ path: String, upTo end: Int64?, anchor: AuditAnchor?) throws -> AuditVerification {
        let handle = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? handle.close() }
        var left = Int(end ?? Int64.max)
        var chain = ChainWalker(anchorSeq: anchor?.seq)
        var carry = Data()
        while left > 0, chain.problem == nil, let chunk = try handle.read(upToCount: min(1 << 20, left)), !chunk.isEmpty {
            left -= chunk.count
            carry.append(chunk)
            let used = carry.withUnsafeBytes { consumeLines($0.bindMemory(to: UInt8.self), from: 0, into: &chain) }
            carry = Data(carry.dropFirst(used))
        }
        return finish(chain, torn: chain.problem == nil ? carry.count : 0, anchor: anchor)
    }

    private static func walk(_ contents: Data, from offset: Int, chain: ChainWalker, anchor: AuditAnchor?) -> AuditVerification {
        var chain = chain
        let torn = contents.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) -> Int in
            let bytes = buffer.bindMemory(to: UInt8.self)
            let used = consumeLines(bytes, from: offset, into: &chain)
            return chain.problem == nil ? bytes.count - used : 0
        }
        return finish(chain, torn: torn, anchor: anchor)
    }

    /// Feeds each complete line from `offset` to the chain; returns where the unconsumed bytes begin.
    private static func consumeLines(
        _ bytes: UnsafeBufferPointer<UInt8>, from offset: Int, into chain: inout ChainWalker
    ) -> Int {
        var start = offset
        while start < bytes.count, chain.problem == nil {
            guard let end = firstNewline(bytes, from: start) else { break }
            chain.consume(UnsafeBufferPointer(rebasing: bytes[start..<end]))
            start = end + 1
        }
        return start
    }

    private static func finish(_ chain: ChainWalker, torn: Int, anchor: AuditAnchor?) -> AuditVerification {
        var chain = chain
        if chain.problem == nil, torn > 0 {
            chain.problem = AuditProblem(
                seq: chain.seq + 1, kind: .tornTail, message: "\(torn) bytes after the last complete record (an append cut short)"
            )
        }
        if chain.problem == nil { chain.problem = anchorProblem(chain, anchor) }
        let head = chain.seq > 0 ? AuditAnchor(seq: chain.seq, hash: hex(chain.hash)) : nil
        return AuditVerification(count: chain.seq, head: head, problem: chain.problem, tornBytes: torn)
    }

    private static func anchorProblem(_ chain: ChainWalker, _ anchor: AuditAnchor?) -> AuditProblem? {
        guard let anchor else {
            return chain.seq == 0
                ? nil : AuditProblem(seq: 1, kind: .noAnchor, message: "the state store has no anchor for \(chain.seq) records")
        }
        if anchor.seq > chain.seq {
            return AuditProblem(
                seq: chain.seq + 1, kind: .missingTail,
                message: "the state store anchors seq \(anchor.seq) but the log ends at seq \(chain.seq)")
        }
        guard let anchored = chain.anchoredHash else {
            return AuditProblem(seq: anchor.seq, kind: .anchorMismatch, message: "anchor seq \(anchor.seq) is not in the log")
        }
        if hex(anchored) != anchor.hash {
            return AuditProblem(
                seq: anchor.seq, kind: .anchorMismatch,
                message: "the state store anchors hash \(anchor.hash.prefix(12))… but the log has \(hex(anchored).prefix(12))…")
        }
        if anchor.seq < chain.seq {
            return AuditProblem(
                seq: anchor.seq + 1, kind: .anchorBehind,
                message: "\(chain.seq - anchor.seq) records after the anchor (seq \(anchor.seq)); the agent repairs this at start"
            )
        }
        return nil
    }

    static func firstNewline(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard let base = bytes.baseAddress, start < bytes.count,
            let found = memchr(base + start, 0x0A, bytes.count - start)
        else { return nil }
        return UnsafeRawPointer(found) - UnsafeRawPointer(base)
    }

    static func hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out = [UInt8]()
        out.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
