//! The webhook page's chart: its deliveries of the last 24 hours, one stacked bar an hour
//! by outcome, drawn as SVG on the server (the page's CSP allows no inline style, and SVG's
//! own geometry attributes are not style).

use minijinja::{Value, context};
use uuid::Uuid;

use crate::console::api;
use crate::console::render;
use crate::console::seat::Seat;
use crate::error::ApiResult;
use crate::http::webhooks::stats::{self, Counts, DeliveryStats};
use crate::state::AppState;

/// The drawing's height in SVG units, and each hour's slot width and bar width.
const HEIGHT: i64 = 60;
const SLOT: i64 = 10;
const BAR: i64 = 8;

/// The chart as the template draws it: `bars` (each with `x`, `label` and `segments` of
/// `class`, `y`, `height`), `width`, `height`, `bar` (a bar's width), the day's `total`, and `hours` for the table
/// beside it.
pub async fn chart(state: &AppState, seat: &Seat, webhook: Uuid) -> ApiResult<Value> {
    let path = api::path((seat.org_id, webhook));
    let principal = seat.principal.clone();
    let stats = api::json(stats::delivery_stats(api::state(state), principal, path).await)?;
    Ok(drawn(&stats))
}

fn drawn(stats: &DeliveryStats) -> Value {
    let busiest = stats.hours.iter().map(|h| sum(&h.counts)).max().unwrap_or(0).max(1);
    let count = stats.hours.len() as i64;
    let bars: Vec<Value> = (0..)
        .zip(&stats.hours)
        .map(|(i, hour)| {
            let c = &hour.counts;
            let mut top = HEIGHT;
            let mut segments = Vec::new();
            for (class, height) in heights(c, busiest) {
                if height > 0 {
                    top -= height;
                    segments.push(context! { class => class, y => top, height => height });
                }
            }
            context! {
                x => i * SLOT + (SLOT - BAR) / 2,
                label => label(count - 1 - i, c),
                segments => segments,
            }
        })
        .collect();
    context! {
        bars => bars,
        width => count * SLOT,
        height => HEIGHT,
        bar => BAR,
        total => render::of(&stats.total),
        any => sum(&stats.total) > 0,
        hours => render::of(&stats.hours),
    }
}

/// Each outcome's share of the bar, scaled so that the busiest hour fills the chart. A
/// non-zero count is at least one unit tall, so that one failure among thousands shows; the
/// largest part gives up what that adds.
fn heights(c: &Counts, busiest: i64) -> [(&'static str, i64); 3] {
    let scaled = |n: i64| if n == 0 { 0 } else { (n * HEIGHT / busiest).max(1) };
    let mut parts = [
        ("succeeded", scaled(c.succeeded)),
        ("failed", scaled(c.failed)),
        ("pending", scaled(c.pending)),
    ];
    let over = parts.iter().map(|(_, h)| h).sum::<i64>() - HEIGHT;
    if over > 0
        && let Some(largest) = parts.iter_mut().max_by_key(|(_, h)| *h)
    {
        largest.1 -= over;
    }
    parts
}

fn sum(c: &Counts) -> i64 {
    c.succeeded + c.failed + c.pending
}

/// What a bar says when pointed at: how long ago its hour was, since the page cannot know the
/// viewer's time zone to name it.
fn label(hours_ago: i64, c: &Counts) -> String {
    let when = match hours_ago {
        0 => "This hour".to_owned(),
        1 => "1 hour ago".to_owned(),
        n => format!("{n} hours ago"),
    };
    format!("{when}: {} succeeded, {} failed, {} pending", c.succeeded, c.failed, c.pending)
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, TimeZone, Utc};

    use super::*;
    use crate::http::webhooks::stats::HourStats;

    fn stats(counts: &[(i64, i64, i64)]) -> DeliveryStats {
        let since = Utc.with_ymd_and_hms(2026, 12, 1, 0, 0, 0).single().expect("a time");
        let hours: Vec<HourStats> = (0..)
            .zip(counts)
            .map(|(i, &(succeeded, failed, pending))| HourStats {
                start: since + Duration::hours(i),
                counts: Counts { succeeded, failed, pending },
            })
            .collect();
        let total = Counts { succeeded: 1001, failed: 1, pending: 0 };
        DeliveryStats { since, until: since + Duration::hours(2), hours, total }
    }

    #[test]
    fn small_parts_show_and_the_bar_stays_in_the_chart() {
        let c = Counts { succeeded: 998, failed: 1, pending: 1 };
        assert_eq!(heights(&c, 1000), [("succeeded", 58), ("failed", 1), ("pending", 1)]);
        let c = Counts { succeeded: 1, failed: 1, pending: 1 };
        assert_eq!(heights(&c, 3), [("succeeded", 20), ("failed", 20), ("pending", 20)]);
        assert_eq!(
            heights(&Counts::default(), 1),
            [("succeeded", 0), ("failed", 0), ("pending", 0)]
        );
    }

    #[test]
    fn bars_stack_by_outcome_scaled_to_the_busiest_hour() {
        let drawn = drawn(&stats(&[(1, 0, 0), (1000, 1, 0)]));
        let bars = drawn.get_attr("bars").expect("bars");
        let first = bars.get_item(&Value::from(0)).expect("first");
        let second = bars.get_item(&Value::from(1)).expect("second");
        assert_eq!(
            first.get_attr("label").expect("label").to_string(),
            "1 hour ago: 1 succeeded, 0 failed, 0 pending"
        );
        assert_eq!(second.get_attr("x").expect("x").to_string(), "11");
        // One delivery in a thousand still gets a visible bar, on top of the successes.
        let segments = second.get_attr("segments").expect("segments");
        let failed = segments.get_item(&Value::from(1)).expect("failed");
        assert_eq!(failed.get_attr("class").expect("class").to_string(), "failed");
        assert_eq!(failed.get_attr("height").expect("height").to_string(), "1");
        let ok = segments.get_item(&Value::from(0)).expect("succeeded");
        assert_eq!(ok.get_attr("height").expect("height").to_string(), "59");
        assert_eq!(ok.get_attr("y").expect("y").to_string(), "1");
        assert_eq!(failed.get_attr("y").expect("y").to_string(), "0");
    }
}
