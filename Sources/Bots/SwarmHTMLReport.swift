/// `tickwire bots --html FILE`: one self-contained page (no scripts, no external files) with the report table and
/// inline SVG charts of every second of the run.
public enum SwarmHTMLReport {
    /// One line on a chart.
    struct Series {
        var name: String
        var color: String
        var values: [Double]
    }

    /// The page. `checks` are a scenario's thresholds, if there was one.
    public static func render(result: SwarmSnapshot, config: SwarmConfig, timeline: [SwarmTimelinePoint],
                              checks: [(line: String, held: Bool)] = []) -> String {
        let seconds = timeline.map(\.seconds)
        let charts = [
            chart(title: "Bots connected", unit: "bots", seconds: seconds, series: [
                Series(name: "connected", color: "#1f77b4", values: timeline.map { Double($0.connected) }),
                Series(name: "in room", color: "#2ca02c", values: timeline.map { Double($0.inRoom) }),
                Series(name: "target", color: "#999999", values: timeline.map { _ in Double(config.bots) }),
            ]),
            percentileChart(title: "Round-trip time (ping → pong)",
                            p50: timeline.map(\.rttMsP50), p99: timeline.map(\.rttMsP99), seconds: seconds),
            percentileChart(title: "Input → acknowledgement (input sent until a snapshot says it was applied)",
                            p50: timeline.map(\.inputToAckMsP50), p99: timeline.map(\.inputToAckMsP99), seconds: seconds),
            percentileChart(title: "Snapshot interval jitter (|interval − period|)",
                            p50: timeline.map(\.snapshotJitterMsP50), p99: timeline.map(\.snapshotJitterMsP99), seconds: seconds),
            percentileChart(title: "Server tick lateness, as seen from snapshot ticks",
                            p50: timeline.map(\.tickLatenessMsP50), p99: timeline.map(\.tickLatenessMsP99), seconds: seconds),
            chart(title: "Bandwidth, all bots", unit: "kB/s", seconds: seconds, series: [
                Series(name: "down", color: "#1f77b4", values: timeline.map { $0.bytesReceivedPerSecond / 1000 }),
                Series(name: "up", color: "#ff7f0e", values: timeline.map { $0.bytesSentPerSecond / 1000 }),
            ]),
            chart(title: "Snapshots received", unit: "per second", seconds: seconds, series: [
                Series(name: "snapshots/s", color: "#9467bd", values: timeline.map(\.snapshotsPerSecond)),
            ]),
            chart(title: "Load generator CPU (near \(config.threads * 100)%, the bots measure themselves)", unit: "% of a core",
                  seconds: seconds, series: [
                Series(name: "bots' CPU", color: "#d62728", values: timeline.map(\.botsCPUPercent)),
                Series(name: "saturation", color: "#999999", values: timeline.map { _ in Double(config.threads * 100) }),
            ]),
        ]
        var thresholds = ""
        if !checks.isEmpty {
            thresholds = "<h2>Thresholds</h2>\n<ul>\n" + checks.map {
                "<li class=\"\($0.held ? "ok" : "broken")\">\($0.held ? "ok" : "BROKEN") \(escape($0.line))</li>"
            }.joined(separator: "\n") + "\n</ul>\n"
        }
        return """
        <!doctype html>
        <html lang="en"><head><meta charset="utf-8"><title>tickwire bots report</title>
        <style>
        body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; max-width: 1500px; }
        pre { background: #f6f6f6; padding: 12px; overflow-x: auto; }
        .charts { display: flex; flex-wrap: wrap; gap: 16px; }
        svg { background: #fff; border: 1px solid #ddd; }
        svg text { font: 11px system-ui, sans-serif; fill: #444; }
        .ok { color: #2a7a2a; } .broken { color: #c00; font-weight: bold; }
        </style></head><body>
        <h1>tickwire bots</h1>
        <pre>\(escape(SwarmReport.table(result, config: config)))</pre>
        \(thresholds)<h2>Over time (one point per second)</h2>
        <div class="charts">
        \(charts.joined(separator: "\n"))
        </div>
        </body></html>

        """
    }

    /// A line chart: x in seconds, y from zero to a round number above the largest value.
    /// A chart of a latency's p50 and p99 over time, in milliseconds.
    static func percentileChart(title: String, p50: [Double], p99: [Double], seconds: [Double]) -> String {
        chart(title: title, unit: "ms", seconds: seconds, series: [
            Series(name: "p50", color: "#1f77b4", values: p50),
            Series(name: "p99", color: "#d62728", values: p99),
        ])
    }

    static func chart(title: String, unit: String, seconds: [Double], series: [Series]) -> String {
        let width = 700.0, height = 240.0, left = 56.0, right = 12.0, top = 28.0, bottom = 36.0
        let plotWidth = width - left - right, plotHeight = height - top - bottom
        let xMax = max(seconds.last ?? 1, 1)
        let yMax = niceCeiling(series.flatMap(\.values).filter(\.isFinite).max() ?? 1)
        func x(_ value: Double) -> Double { left + value / xMax * plotWidth }
        func y(_ value: Double) -> Double { top + plotHeight - min(max(value, 0), yMax) / yMax * plotHeight }
        var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Int(width))\" height=\"\(Int(height))\" viewBox=\"0 0 \(Int(width)) \(Int(height))\">"
        svg += "<text x=\"\(left)\" y=\"16\" style=\"font-weight:bold\">\(escape(title))</text>"
        for step in 0...4 {
            let value = yMax * Double(step) / 4
            svg += "<line x1=\"\(left)\" x2=\"\(left + plotWidth)\" y1=\"\(format(y(value)))\" y2=\"\(format(y(value)))\" stroke=\"#eee\"/>"
            svg += "<text x=\"\(left - 4)\" y=\"\(format(y(value) + 4))\" text-anchor=\"end\">\(label(value))</text>"
        }
        let xStep = niceCeiling(xMax / 6)
        var tick = 0.0
        while tick <= xMax + 0.001 {
            svg += "<text x=\"\(format(x(tick)))\" y=\"\(format(top + plotHeight + 16))\" text-anchor=\"middle\">\(label(tick)) s</text>"
            tick += xStep
        }
        svg += "<text x=\"\(format(left + plotWidth))\" y=\"\(format(height - 4))\" text-anchor=\"end\">\(escape(unit))</text>"
        svg += "<rect x=\"\(left)\" y=\"\(top)\" width=\"\(plotWidth)\" height=\"\(plotHeight)\" fill=\"none\" stroke=\"#bbb\"/>"
        var legendX = left + 8
        for line in series {
            let points = zip(seconds, line.values).map { "\(format(x($0))),\(format(y($1)))" }.joined(separator: " ")
            svg += "<polyline fill=\"none\" stroke=\"\(line.color)\" stroke-width=\"1.5\" points=\"\(points)\"/>"
            svg += "<text x=\"\(format(legendX))\" y=\"\(format(top + 14))\" style=\"fill:\(line.color)\">\(escape(line.name))</text>"
            legendX += Double(line.name.count) * 7 + 16
        }
        return svg + "</svg>"
    }

    /// 1, 2 or 5 times a power of ten, at or above `value`.
    static func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        var power = 1.0
        while power * 10 <= value { power *= 10 }
        while power > value { power /= 10 }
        for factor in [1.0, 2.0, 5.0, 10.0] where power * factor >= value { return power * factor }
        return power * 10
    }

    private static func format(_ value: Double) -> String { String((value * 10).rounded() / 10) }

    private static func label(_ value: Double) -> String {
        value == value.rounded() ? String(Int(value)) : String((value * 100).rounded() / 100)
    }

    static func escape(_ text: String) -> String {
        var escaped = ""
        for character in text {
            switch character {
            case "&": escaped += "&amp;"
            case "<": escaped += "&lt;"
            case ">": escaped += "&gt;"
            case "\"": escaped += "&quot;"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
