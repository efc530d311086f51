/// `GET /rooms`: every room with its players and tick health, as JSON (room ids need no escaping: they are
/// letters, digits, `-` and `_`).
enum RoomsJSON {
    static func render(_ rooms: [RoomSummary]) -> String {
        func number(_ value: Double) -> String {
            let rounded = (value * 10).rounded() / 10
            return rounded == rounded.rounded() ? String(Int(rounded)) : String(rounded)
        }
        let items = rooms.map { room in
            "{\"id\":\"\(room.id)\",\"loop\":\(room.loopIndex),\"players\":\(room.players),\"spectators\":\(room.spectators),"
                + "\"tickRateHz\":\(room.tickRateHz),\"tick\":\(room.tick),\"tickLatenessUsP99\":\(number(room.tickLatenessUsP99)),"
                + "\"tickDurationUsP99\":\(number(room.tickDurationUsP99)),\"snapshotsSkipped\":\(room.snapshotsSkipped),"
                + "\"inputsDropped\":\(room.inputsDropped),\"catchUpTicks\":\(room.catchUpTicks)}"
        }
        return "{\"rooms\":[\(items.joined(separator: ","))]}\n"
    }
}
