import Reactor

/// `GET /metrics`: the server's counters in the Prometheus text format (version 0.0.4).
enum MetricsText {
    static func render(counters: ServerCounters, directory: RoomDirectory, limiter: AddressLimiter, loops: [EventLoop]) -> String {
        var text = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) \(type)\n"
            for sample in samples { text += "\(name)\(sample.labels) \(sample.value)\n" }
        }
        func histogram(_ name: String, _ help: String, _ histogram: Histogram) {
            text += "# HELP \(name) \(help)\n# TYPE \(name) histogram\n"
            var cumulative = 0
            for (index, bound) in Histogram.boundsUs.enumerated() {
                cumulative += histogram.counts[index]
                text += "\(name)_bucket{le=\"\(Int(bound))\"} \(cumulative)\n"
            }
            text += "\(name)_bucket{le=\"+Inf\"} \(histogram.count)\n\(name)_sum \(Int(histogram.sumUs.rounded()))\n\(name)_count \(histogram.count)\n"
            text += "# HELP \(name)_max The largest observation since start.\n# TYPE \(name)_max gauge\n\(name)_max \(Int(histogram.maxUs.rounded()))\n"
        }
        let totals = directory.totals()
        metric("tickwire_connections_open", "gauge", "Open TCP connections (HTTP and WebSocket).",
               [("", String(counters.openConnections.load(ordering: .relaxed)))])
        metric("tickwire_connections_accepted_total", "counter", "Connections accepted.",
               [("", String(counters.acceptedTotal.load(ordering: .relaxed)))])
        metric("tickwire_connections_rejected_total", "counter", "Connections and requests refused with an HTTP status (server full, shutting down, per-address limits, room limits).",
               [("", String(counters.rejectedTotal.load(ordering: .relaxed)))])
        metric("tickwire_rejections_total", "counter", "Every defence that refused, closed or kicked a client, by reason (docs/operations.md, Limits and defences).",
               RejectionReason.allCases.map { ("{reason=\"\($0.rawValue)\"}", String(counters.defences.total($0))) })
        metric("tickwire_messages_dropped_total", "counter", "Client messages dropped instead of acted on, by kind (over a rate, or not allowed).",
               DroppedMessageKind.allCases.map { ("{kind=\"\($0.rawValue)\"}", String(counters.defences.total($0))) })
        metric("tickwire_addresses_tracked", "gauge", "Client addresses the per-address limits track now.", [("", String(limiter.trackedAddressCount))])
        metric("tickwire_bytes_received_total", "counter", "Bytes read from sockets.",
               [("", String(loops.reduce(0) { $0 + $1.bytesReceivedTotal }))])
        metric("tickwire_bytes_sent_total", "counter", "Bytes written to sockets.",
               [("", String(loops.reduce(0) { $0 + $1.bytesSentTotal }))])
        metric("tickwire_rooms", "gauge", "Rooms open.", [("", String(totals.rooms))])
        metric("tickwire_players", "gauge", "Players in rooms.", [("", String(totals.players))])
        metric("tickwire_spectators", "gauge", "Spectators in rooms.", [("", String(totals.spectators))])
        metric("tickwire_ticks_total", "counter", "Room ticks simulated.", [("", String(totals.ticks))])
        histogram("tickwire_tick_duration_us", "Time one room tick took: simulation, hash and snapshots (µs).", totals.tickDuration)
        histogram("tickwire_tick_lateness_us", "How late a room tick started after its absolute deadline (µs).", totals.tickLateness)
        metric("tickwire_snapshots_skipped_total", "counter", "Snapshots not sent because the client's unsent bytes were over the high watermark.",
               [("", String(totals.snapshotsSkipped))])
        metric("tickwire_catch_up_ticks_total", "counter", "Room ticks simulated without snapshots because the room was two whole periods behind.",
               [("", String(totals.catchUpTicks))])
        metric("tickwire_inputs_dropped_total", "counter", "Inputs dropped: the player's buffer was full, the sequence was stale, or a standing queue was trimmed.",
               [("", String(totals.inputsDropped))])
        metric("tickwire_decode_errors_total", "counter", "Game messages that did not decode (the client was closed with 1002).",
               [("", String(totals.decodeErrors))])
        let usage = ProcessUsage.current()
        metric("process_cpu_seconds_total", "counter", "User and system CPU time of the server process.",
               [("", String(Double(usage.cpuNs / 1_000_000) / 1000))])
        metric("process_resident_memory_bytes", "gauge", "Resident memory of the server process.", [("", String(usage.residentBytes))])
        metric("process_open_fds", "gauge", "File descriptors the server process holds.", [("", String(ProcessUsage.openFileDescriptorCount()))])
        let closes = counters.closesByCode.withLock { $0 }.sorted { $0.key < $1.key }
        metric("tickwire_websocket_closes_total", "counter", "WebSocket connections closed, by close code (1006: no close frame).",
               closes.map { ("{code=\"\($0.key)\"}", String($0.value)) })
        return text
    }
}
