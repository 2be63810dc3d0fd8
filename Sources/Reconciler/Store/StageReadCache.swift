import GRDB

/// The writable store's copy of the `stages` and `promotions` tables, which every pass reads whole:
/// at a thousand pipelines those reads were a fifth of the pass in which a push arrived. The copy
/// follows every committed change, whoever wrote it: GRDB reports each changed row, and the next read
/// fetches just those rows again (or drops deleted ones), so a read costs the rows that changed since
/// the last one and never sees less than the database holds. Only the agent holding the state
/// directory's lock writes, so a read-only store (another process) never uses one.
final class StageReadCache: TransactionObserver, @unchecked Sendable {
    // Touched only on the database queue (inside `read`/`write` and GRDB's observer callbacks).
    private var stages: [Int64: StageRecord]?
    /// `stages` by key, as last handed out; rebuilt only after rows changed.
    private var stagesByKey: [StageKey: StageRecord]?
    private var promotions: OrderedPromotions?
    /// Rows changed by committed transactions since the last read, by table.
    private var dirty: [String: Set<Int64>] = [:]
    /// Rows changed by the transaction under way.
    private var pending: [String: Set<Int64>] = [:]

    func stages(in db: Database) throws -> [StageKey: StageRecord] {
        let changed = dirty.removeValue(forKey: "stages") ?? []
        if let stagesByKey, changed.isEmpty { return stagesByKey }
        guard var rows = stages, var keyed = stagesByKey else {
            var rows = try Self.load(db, "stages", SQLiteStateStore.stage)
            try Self.refresh(&rows, dirty: changed, in: db, "stages", SQLiteStateStore.stage)
            let keyed = Dictionary(rows.values.map { ($0.key, $0) }, uniquingKeysWith: { $1 })
            (stages, stagesByKey) = (rows, keyed)
            return keyed
        }
        // Only the changed rows move in the keyed copy (rebuilding it cost a pass at 1,000 pipelines 3 ms);
        // the stored copies are let go first so that the locals are changed in place (a failed read reloads).
        (stages, stagesByKey) = (nil, nil)
        for rowID in changed {
            let fresh = try Row.fetchOne(db, sql: "SELECT * FROM stages WHERE rowid = ?", arguments: [rowID])
                .map(SQLiteStateStore.stage)
            if let old = rows[rowID], old.key != fresh?.key { keyed[old.key] = nil }
            rows[rowID] = fresh
            if let fresh { keyed[fresh.key] = fresh }
        }
        (stages, stagesByKey) = (rows, keyed)
        return keyed
    }

    /// Every promotion in id order. Rows are appended with growing ids and updated in place, so a read
    /// after a promotion started or ended costs those rows, not a sort of the whole history.
    func promotions(in db: Database) throws -> [PromotionRecord] {
        let changed = dirty.removeValue(forKey: "promotions") ?? []
        if let promotions, changed.isEmpty { return promotions.ordered }
        var history = try promotions ?? OrderedPromotions(Self.load(db, "promotions", SQLiteStateStore.promotion))
        var rows: [Int64: PromotionRecord] = [:]
        try Self.refresh(&rows, dirty: changed, in: db, "promotions", SQLiteStateStore.promotion)
        if !history.apply(changed: changed, rows: rows) {
            history = try OrderedPromotions(Self.load(db, "promotions", SQLiteStateStore.promotion))
        }
        promotions = history
        return history.ordered
    }

    private static func load<T>(_ db: Database, _ table: String, _ make: (Row) -> T) throws -> [Int64: T] {
        var rows: [Int64: T] = [:]
        for row in try Row.fetchAll(db, sql: "SELECT rowid AS cache_rowid, * FROM \(table)") {
            rows[row["cache_rowid"]] = make(row)
        }
        return rows
    }

    private static func refresh<T>(
        _ rows: inout [Int64: T], dirty: Set<Int64>, in db: Database, _ table: String, _ make: (Row) -> T
    ) throws {
        for rowID in dirty {
            rows[rowID] = try Row.fetchOne(db, sql: "SELECT * FROM \(table) WHERE rowid = ?", arguments: [rowID]).map(make)
        }
    }

    func observes(eventsOfKind eventKind: DatabaseEventKind) -> Bool {
        ["stages", "promotions"].contains(eventKind.tableName)
    }

    func databaseDidChange(with event: DatabaseEvent) {
        pending[event.tableName, default: []].insert(event.rowID)
    }

    func databaseDidCommit(_ db: Database) {
        for (table, rows) in pending { dirty[table, default: []].formUnion(rows) }
        pending = [:]
    }

    func databaseDidRollback(_ db: Database) {
        pending = [:]
    }
}

/// The promotions table in rowid (= id) order, with each row's position.
struct OrderedPromotions {
    private(set) var ordered: [PromotionRecord]
    private var positions: [Int64: Int]
    private var lastRowID: Int64

    init(_ rows: [Int64: PromotionRecord]) {
        let sorted = rows.sorted { $0.key < $1.key }
        ordered = sorted.map(\.value)
        positions = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($0.element.key, $0.offset) })
        lastRowID = sorted.last?.key ?? 0
    }

    /// Updates rows in place and appends new ones; false when that cannot keep the order (a row deleted,
    /// or inserted below the last id), and the caller reloads.
    mutating func apply(changed: Set<Int64>, rows: [Int64: PromotionRecord]) -> Bool {
        for rowID in changed.sorted() {
            guard let row = rows[rowID] else { return false }
            if let position = positions[rowID] {
                ordered[position] = row
            } else {
                guard rowID > lastRowID else { return false }
                positions[rowID] = ordered.count
                ordered.append(row)
                lastRowID = rowID
            }
        }
        return true
    }
}
