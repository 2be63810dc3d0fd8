import SpecModel

/// Where each directory and file was changed: for every path a commit of the index changed, the path and
/// each of its parent directories map to that commit's position, in ascending order. A glob with a literal
/// prefix then finds its commits by one lookup instead of matching every commit's paths, so candidates of
/// a thousand pipelines over twenty thousand commits cost the commits that touch them, not the product.
struct PathPositions {
    private var positions: [Substring: [Int]] = [:]

    /// Adds the commit at `position`, which must be past every position added so far.
    mutating func add(_ paths: [String], at position: Int) {
        var seen = Set<Substring>()
        for path in paths {
            var end = path.endIndex
            while true {
                let key = path[..<end]
                guard seen.insert(key).inserted else { break }
                positions[key, default: []].append(position)
                guard let slash = key.lastIndex(of: "/") else { break }
                end = slash
            }
        }
    }

    mutating func removeAll() {
        positions = [:]
    }

    /// Positions at or after `start` of commits that changed `prefix` or something below it, ascending.
    func touching(_ prefix: String, from start: Int) -> ArraySlice<Int> {
        guard let list = positions[prefix[...]] else { return [] }
        var low = 0
        var high = list.count
        while low < high {
            let middle = (low + high) / 2
            if list[middle] < start { low = middle + 1 } else { high = middle }
        }
        return list[low...]
    }
}
