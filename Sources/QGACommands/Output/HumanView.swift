/// A query's human view of one target's value: its lines when it is the only target, and
/// its rows in the table of several (under TARGET and the view's columns).
struct HumanView: Sendable, Equatable, ExpressibleByArrayLiteral {
    /// The lines printed for one target.
    var lines: [String]
    /// For several targets: the columns after TARGET and this target's rows under them
    /// (cells unescaped; `Table.lines` escapes them). nil prints each line as
    /// `TARGET: line` instead.
    var columns: Columns?

    struct Columns: Sendable, Equatable {
        var header: [String]
        var rows: [[String]]
        var rightAligned: Set<Int> = []
    }

    init(lines: [String], columns: Columns? = nil) {
        self.lines = lines
        self.columns = columns
    }

    /// Free-form lines, prefixed with the target when there are several.
    init(arrayLiteral lines: String...) { self.init(lines: lines) }

    /// A table: as it is for one target, with a TARGET column first for several.
    static func table(header: [String], rows: [[String]], rightAligned: Set<Int> = []) -> HumanView {
        HumanView(
            lines: Table.lines(header: header, rows: rows, rightAligned: rightAligned),
            columns: Columns(header: header, rows: rows, rightAligned: rightAligned))
    }

    /// One value: `line` for one target; for several, one row per target with `cell` (by
    /// default the line) under `column`.
    static func value(_ line: String, column: String, cell: String? = nil) -> HumanView {
        HumanView(lines: [line], columns: Columns(header: [column], rows: [[cell ?? line]]))
    }

    /// The views of several targets as one output: a table with TARGET first when every
    /// view has columns (their headers merged by name, in order of appearance), else each
    /// target's lines as `TARGET: line`.
    static func combine(_ views: [(label: String, view: HumanView)]) -> [String] {
        guard !views.isEmpty else { return [] }
        let tables = views.compactMap { $0.view.columns }
        guard tables.count == views.count else {
            return views.flatMap { label, view in view.lines.map { "\(label): \($0)" } }
        }
        var header: [String] = []
        var rightAligned: Set<String> = []
        for table in tables {
            for (index, name) in table.header.enumerated() {
                if !header.contains(name) { header.append(name) }
                if table.rightAligned.contains(index) { rightAligned.insert(name) }
            }
        }
        var rows: [[String]] = []
        for (label, view) in views {
            guard let table = view.columns else { continue }
            let positions = header.map { table.header.firstIndex(of: $0) }
            for row in table.rows {
                rows.append([label] + positions.map { position in position.flatMap { $0 < row.count ? row[$0] : nil } ?? "" })
            }
        }
        let aligned = Set(header.indices.filter { rightAligned.contains(header[$0]) }.map { $0 + 1 })
        return Table.lines(header: ["TARGET"] + header, rows: rows, rightAligned: aligned)
    }
}
