/// A uniform grid over the world for neighbour queries and interest management. Rebuilt each tick from the
/// entities' positions (a counting sort over the cells that hold something, into one flat array: no per-cell
/// allocation, and no pass over empty cells, so a few players in a large world cost a few cells), queried by
/// rectangle. Results come in cell order, then insertion order, so they are deterministic.
public struct SpatialGrid: Sendable {
    /// Cell edge length.
    public let cellSize: Fixed
    /// Cells across and down.
    public let columns: Int
    public let rows: Int
    /// Per cell: where its entries start in `entries`, and how many (0 for every cell not in `occupiedCells`).
    private var cellFirst: [Int32]
    private var cellCount: [Int32]
    private var entries: [EntityID] = []
    /// The cells holding something, ascending: the only ones a rebuild resets.
    private var occupiedCells: [Int32] = []
    /// Scratch of `rebuild`, kept between rebuilds so that a rebuild allocates nothing.
    private var itemCells: [Int32] = []

    /// A grid covering `width` × `height` from the origin with square cells of `cellSize`.
    public init(width: Fixed, height: Fixed, cellSize: Fixed) {
        precondition(cellSize.raw > 0 && width.raw > 0 && height.raw > 0)
        self.cellSize = cellSize
        columns = max(1, (width / cellSize).floor + 1)
        rows = max(1, (height / cellSize).floor + 1)
        cellFirst = [Int32](repeating: 0, count: columns * rows)
        cellCount = [Int32](repeating: 0, count: columns * rows)
    }

    /// The cell of a position, clamped to the grid.
    @inlinable
    public func cell(of position: FixedVector) -> (column: Int, row: Int) {
        (min(max((position.x / cellSize).floor, 0), columns - 1), min(max((position.y / cellSize).floor, 0), rows - 1))
    }

    /// Replaces the contents with `items` (id and position each).
    public mutating func rebuild(_ items: [(id: EntityID, position: FixedVector)]) {
        rebuild(count: items.count) { items[$0] }
    }

    /// Replaces the contents with `count` items, the i-th given by `item(i)` (called twice per item). Reuses the
    /// grid's buffers: no allocation once they have grown to the largest count.
    public mutating func rebuild(count: Int, _ item: (Int) -> (id: EntityID, position: FixedVector)) {
        for cell in occupiedCells { cellCount[Int(cell)] = 0 }
        occupiedCells.removeAll(keepingCapacity: true)
        itemCells.removeAll(keepingCapacity: true)
        for itemIndex in 0..<count {
            let (column, row) = cell(of: item(itemIndex).position)
            let cellIndex = row * columns + column
            itemCells.append(Int32(cellIndex))
            if cellCount[cellIndex] == 0 { occupiedCells.append(Int32(cellIndex)) }
            cellCount[cellIndex] += 1
        }
        occupiedCells.sort()
        var next: Int32 = 0
        for cell in occupiedCells {
            cellFirst[Int(cell)] = next
            next += cellCount[Int(cell)]
        }
        entries.removeAll(keepingCapacity: true)
        entries.append(contentsOf: repeatElement(EntityID(index: 0, generation: 0), count: count))
        // `cellFirst` advances as each cell fills, then is wound back: insertion order within a cell.
        for itemIndex in 0..<count {
            let cellIndex = Int(itemCells[itemIndex])
            entries[Int(cellFirst[cellIndex])] = item(itemIndex).id
            cellFirst[cellIndex] += 1
        }
        for cell in occupiedCells { cellFirst[Int(cell)] -= cellCount[Int(cell)] }
    }

    /// Appends to `result` every entity whose cell overlaps the rectangle `center ± halfExtent`.
    /// Callers filter by exact distance; the grid only narrows the candidates.
    public func query(center: FixedVector, halfExtent: FixedVector, into result: inout [EntityID]) {
        let (firstColumn, firstRow) = cell(of: center - halfExtent)
        let (lastColumn, lastRow) = cell(of: center + halfExtent)
        for row in firstRow...lastRow {
            for column in firstColumn...lastColumn {
                let cellIndex = row * columns + column
                let first = Int(cellFirst[cellIndex])
                for entry in first..<first + Int(cellCount[cellIndex]) { result.append(entries[entry]) }
            }
        }
    }
}
