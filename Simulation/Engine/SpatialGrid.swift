/// A uniform grid over the world for neighbour queries and interest management. Rebuilt each tick from the
/// entities' positions (a counting sort into one flat array: no per-cell allocation), queried by rectangle.
/// Results come in cell order, then insertion order, so they are deterministic.
public struct SpatialGrid: Sendable {
    /// Cell edge length.
    public let cellSize: Fixed
    /// Cells across and down.
    public let columns: Int
    public let rows: Int
    private var cellStart: [Int32]
    private var entries: [EntityID] = []

    /// A grid covering `width` × `height` from the origin with square cells of `cellSize`.
    public init(width: Fixed, height: Fixed, cellSize: Fixed) {
        precondition(cellSize.raw > 0 && width.raw > 0 && height.raw > 0)
        self.cellSize = cellSize
        columns = max(1, (width / cellSize).floor + 1)
        rows = max(1, (height / cellSize).floor + 1)
        cellStart = [Int32](repeating: 0, count: columns * rows + 1)
    }

    /// The cell of a position, clamped to the grid.
    @inlinable
    public func cell(of position: FixedVector) -> (column: Int, row: Int) {
        (min(max((position.x / cellSize).floor, 0), columns - 1), min(max((position.y / cellSize).floor, 0), rows - 1))
    }

    /// Replaces the contents with `items` (id and position each).
    public mutating func rebuild(_ items: [(id: EntityID, position: FixedVector)]) {
        for index in cellStart.indices { cellStart[index] = 0 }
        var cells = [Int32](repeating: 0, count: items.count)
        for (itemIndex, item) in items.enumerated() {
            let (column, row) = cell(of: item.position)
            let cellIndex = row * columns + column
            cells[itemIndex] = Int32(cellIndex)
            cellStart[cellIndex + 1] += 1
        }
        for index in 1..<cellStart.count { cellStart[index] += cellStart[index - 1] }
        var fill = cellStart
        entries = [EntityID](repeating: EntityID(index: 0, generation: 0), count: items.count)
        for (itemIndex, item) in items.enumerated() {
            let cellIndex = Int(cells[itemIndex])
            entries[Int(fill[cellIndex])] = item.id
            fill[cellIndex] += 1
        }
    }

    /// Appends to `result` every entity whose cell overlaps the rectangle `center ± halfExtent`.
    /// Callers filter by exact distance; the grid only narrows the candidates.
    public func query(center: FixedVector, halfExtent: FixedVector, into result: inout [EntityID]) {
        let (firstColumn, firstRow) = cell(of: center - halfExtent)
        let (lastColumn, lastRow) = cell(of: center + halfExtent)
        for row in firstRow...lastRow {
            for column in firstColumn...lastColumn {
                let cellIndex = row * columns + column
                for entry in Int(cellStart[cellIndex])..<Int(cellStart[cellIndex + 1]) { result.append(entries[entry]) }
            }
        }
    }
}
