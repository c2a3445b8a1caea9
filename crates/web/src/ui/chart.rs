//! A campaign's chart over time, drawn on the server as SVG: one line each
//! for sent, delivered and clicked per bucket (calls, which have no links:
//! sent, answered and not answered), with its axes and a legend,
//! readable without JavaScript (and with a table of the same figures for
//! screen readers).

use recado_core::campaigns::Point;
use std::fmt::Write;

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 48.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 36.0;

/// The series drawn for messages, with their CSS class and legend label.
const MESSAGE_SERIES: [(&str, &str); 3] = [("sent", "Sent"), ("delivered", "Delivered"), ("clicked", "Clicked")];
/// The series drawn for calls: a delivered call is an answered one.
const CALL_SERIES: [(&str, &str); 3] = [
    ("sent", "Sent"),
    ("delivered", "Answered"),
    ("not_delivered", "Not answered"),
];

fn value(p: &Point, series: &str) -> i64 {
    match series {
        "sent" => p.sent,
        "delivered" => p.delivered,
        "not_delivered" => p.not_delivered,
        _ => p.clicked,
    }
}

/// A round axis maximum at or above `max` (1, 2, 5 × 10ⁿ).
fn axis_max(max: i64) -> i64 {
    let mut step = 1;
    loop {
        for m in [1, 2, 5] {
            if m * step >= max.max(1) {
                return m * step;
            }
        }
        step *= 10;
    }
}

/// The chart of `points` (bucket start label, figures), oldest first, of
/// messages or (`calls`) of calls.
pub fn svg(points: &[(String, Point)], calls: bool) -> String {
    let (series_drawn, title) = if calls {
        (CALL_SERIES, "Sent, answered and not answered over time")
    } else {
        (MESSAGE_SERIES, "Sent, delivered and clicked over time")
    };
    let mut out = String::new();
    let _ = write!(
        out,
        r#"<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-labelledby="chart-title" xmlns="http://www.w3.org/2000/svg"><title id="chart-title">{title}</title>"#
    );
    let plot_w = WIDTH - LEFT - RIGHT;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let max = points
        .iter()
        .flat_map(|(_, p)| series_drawn.iter().map(move |(s, _)| value(p, s)))
        .max()
        .unwrap_or(0);
    let top = axis_max(max);
    #[allow(clippy::cast_precision_loss)] // chart coordinates
    let y = |v: i64| TOP + plot_h - (v as f64 / top as f64) * plot_h;
    #[allow(clippy::cast_precision_loss)]
    let x = |i: usize| {
        if points.len() <= 1 {
            LEFT + plot_w / 2.0
        } else {
            LEFT + plot_w * i as f64 / (points.len() - 1) as f64
        }
    };
    // Grid and y labels at 0, ½ and the top.
    for v in [0, top / 2, top] {
        let yy = y(v);
        let _ = write!(
            out,
            r#"<line class="grid" x1="{LEFT}" y1="{yy:.1}" x2="{:.1}" y2="{yy:.1}"/><text class="axis" x="{:.1}" y="{:.1}" text-anchor="end">{v}</text>"#,
            WIDTH - RIGHT,
            LEFT - 6.0,
            yy + 4.0
        );
    }
    if points.is_empty() {
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="middle">Nothing sent yet</text></svg>"#,
            WIDTH / 2.0,
            TOP + plot_h / 2.0
        );
        return out;
    }
    // X labels: first, middle and last bucket.
    let mut labelled = vec![0, points.len() / 2, points.len() - 1];
    labelled.dedup();
    for i in labelled {
        let anchor = if i == 0 && points.len() > 1 {
            "start"
        } else if i == points.len() - 1 && points.len() > 1 {
            "end"
        } else {
            "middle"
        };
        let _ = write!(
            out,
            r#"<text class="axis" x="{:.1}" y="{:.1}" text-anchor="{anchor}">{}</text>"#,
            x(i),
            HEIGHT - 12.0,
            escape(&points[i].0)
        );
    }
    for (series, label) in series_drawn {
        let path: Vec<String> = points
            .iter()
            .enumerate()
            .map(|(i, (_, p))| format!("{:.1},{:.1}", x(i), y(value(p, series))))
            .collect();
        let _ = write!(
            out,
            r#"<polyline class="series {series}" fill="none" points="{}"><title>{label}</title></polyline>"#,
            path.join(" ")
        );
        for (i, (_, p)) in points.iter().enumerate() {
            let _ = write!(
                out,
                r#"<circle class="dot {series}" cx="{:.1}" cy="{:.1}" r="2.5"/>"#,
                x(i),
                y(value(p, series))
            );
        }
    }
    // Legend.
    for (n, (series, label)) in series_drawn.iter().enumerate() {
        #[allow(clippy::cast_precision_loss)]
        let lx = LEFT + 8.0 + 110.0 * n as f64;
        let _ = write!(
            out,
            r#"<rect class="swatch {series}" x="{lx:.1}" y="2" width="10" height="10"/><text class="legend" x="{:.1}" y="11">{label}</text>"#,
            lx + 14.0
        );
    }
    out.push_str("</svg>");
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(sent: i64, delivered: i64, clicked: i64) -> Point {
        Point {
            sent,
            delivered,
            clicked,
            ..Point::default()
        }
    }

    #[test]
    fn the_axis_rounds_up_to_one_two_or_five_times_a_power_of_ten() {
        assert_eq!(
            [0, 1, 3, 7, 10, 11, 180, 4_999].map(axis_max),
            [1, 1, 5, 10, 10, 20, 200, 5_000]
        );
    }

    #[test]
    fn each_series_is_a_line_through_one_dot_per_bucket() {
        let points = vec![
            ("09:00".to_string(), point(10, 8, 2)),
            ("10:00".to_string(), point(20, 18, 5)),
            ("11:00".to_string(), point(5, 5, 1)),
        ];
        let svg = svg(&points, false);
        for series in ["sent", "delivered", "clicked"] {
            assert_eq!(svg.matches(&format!("<polyline class=\"series {series}\"")).count(), 1);
            assert_eq!(svg.matches(&format!("<circle class=\"dot {series}\"")).count(), 3);
        }
        assert!(svg.contains(">09:00<") && svg.contains(">11:00<"));
    }

    #[test]
    fn the_highest_figure_reaches_the_top_of_the_axis_when_it_is_round() {
        let svg = svg(
            &[("a".to_string(), point(20, 0, 0)), ("b".to_string(), point(10, 0, 0))],
            false,
        );
        assert!(svg.contains(&format!("{LEFT:.1},{TOP:.1}")), "{svg}");
    }

    #[test]
    fn an_empty_campaign_says_nothing_was_sent() {
        assert!(svg(&[], false).contains("Nothing sent yet"));
    }

    #[test]
    fn labels_are_escaped() {
        assert!(svg(&[("<b>".to_string(), point(1, 1, 1))], false).contains("&lt;b&gt;"));
    }

    #[test]
    fn a_calls_chart_draws_answered_and_not_answered_calls_and_no_clicks() {
        let p = Point {
            sent: 4,
            delivered: 3,
            not_delivered: 1,
            ..Point::default()
        };
        let svg = svg(&[("09:00".to_string(), p)], true);
        assert!(svg.contains("<polyline class=\"series not_delivered\""), "{svg}");
        assert!(svg.contains(">Answered<") && svg.contains(">Not answered<"), "{svg}");
        assert!(!svg.contains("clicked") && !svg.contains("Clicked"), "{svg}");
    }
}
