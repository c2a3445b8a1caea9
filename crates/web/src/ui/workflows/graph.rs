//! A workflow drawn as SVG on the server: one box per node, laid out in rows
//! by depth from `start` (breadth first), arrows labelled with the key that
//! holds the edge. Edges going back up (loops) or within a row run on the
//! right of the boxes. The template draws what [`layout`] computes; every
//! text goes through the template's escaping.

use recado_flow::condition::{Condition, EventScope, Leaf, PropertyOp};
use recado_flow::definition::{Delay, NodeKind, SendAction, TIMEOUT_KEY};
use recado_flow::Definition;
use std::collections::{BTreeMap, HashMap, VecDeque};

pub const BOX_W: i64 = 240;
pub const BOX_H: i64 = 96;
const H_GAP: i64 = 124;
const V_GAP: i64 = 84;
const MARGIN: i64 = 24;
const TOP: i64 = 40;
/// Room on the right for the edges that go back up.
const LOOP_ROOM: i64 = 110;
/// Characters per line of a box at the box's font size.
const LINE_CHARS: usize = 33;

/// The counts a node's box shows (from the performance report).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeCounts {
    pub attempts: i64,
    pub successes: i64,
    pub failures: i64,
    pub waiting: i64,
}

pub struct GraphNode {
    pub id: String,
    pub node_type: String,
    pub type_label: &'static str,
    pub lines: Vec<String>,
    pub counts: NodeCounts,
    pub x: i64,
    pub y: i64,
    pub start: bool,
}

pub struct GraphEdge {
    pub from: String,
    pub to: String,
    pub label: String,
    /// The SVG path.
    pub d: String,
    pub label_x: i64,
    pub label_y: i64,
    pub label_w: i64,
    /// Goes back up or sideways (drawn dashed).
    pub back: bool,
}

pub struct Graph {
    pub width: i64,
    pub height: i64,
    pub box_w: i64,
    pub box_h: i64,
    pub nodes: Vec<GraphNode>,
    pub edges: Vec<GraphEdge>,
}

impl Graph {
    /// The voice and IVR steps, which the simulator can play.
    pub fn voice_nodes(&self) -> Vec<&GraphNode> {
        self.nodes
            .iter()
            .filter(|n| n.node_type == "send_voice" || n.node_type == "send_ivr")
            .collect()
    }
}

pub fn type_label(node_type: &str) -> &'static str {
    match node_type {
        "send_sms" => "Send SMS",
        "send_whatsapp_template" => "WhatsApp template",
        "send_whatsapp_text" => "WhatsApp text",
        "send_voice" => "Voice message",
        "send_ivr" => "IVR call",
        "set_property" => "Set property",
        "set_subscription" => "Set subscription",
        "delay" => "Delay",
        "wait_event" => "Wait for event",
        "branch" => "Branch",
        "end" => "End",
        _ => "Step",
    }
}

/// A condition in one line: `country eq BR AND SMS_CLICKED of offer`.
pub fn condition_text(c: &Condition) -> String {
    match c {
        Condition::All(items) => join_group(items, " AND "),
        Condition::Any(items) => join_group(items, " OR "),
        Condition::Leaf(Leaf::Property(p)) => {
            let value = match &p.op {
                PropertyOp::IsKnown | PropertyOp::IsUnknown => String::new(),
                _ => c
                    .to_json()
                    .get("value")
                    .map(|v| match v {
                        serde_json::Value::String(s) => format!(" {s}"),
                        other => format!(" {other}"),
                    })
                    .unwrap_or_default(),
            };
            format!("{} {}{value}", p.property, p.op.name())
        }
        Condition::Leaf(Leaf::Subscription(s)) => format!(
            "{} subscription {} {}",
            s.channel.as_str(),
            if s.equal { "is" } else { "is not" },
            s.status.as_str()
        ),
        Condition::Leaf(Leaf::Event(e)) => {
            let scope = match &e.scope {
                EventScope::Send(node) => format!(" of {node}"),
                EventScope::Campaign(name) => format!(" in {name}"),
                EventScope::AnyMessage => String::new(),
            };
            let negation = if e.happened { "" } else { "no " };
            format!("{negation}{}{scope}", e.event)
        }
    }
}

fn join_group(items: &[Condition], sep: &str) -> String {
    let parts: Vec<String> = items
        .iter()
        .map(|c| match c {
            Condition::Leaf(_) => condition_text(c),
            _ => format!("({})", condition_text(c)),
        })
        .collect();
    parts.join(sep)
}

/// A narration's words, or its recording's URL.
fn narration_words(narration: &serde_json::Value) -> String {
    narration["text"]
        .as_str()
        .or_else(|| narration["url"].as_str())
        .unwrap_or_default()
        .to_string()
}

/// What a node does, in a few words.
pub fn summary(kind: &NodeKind) -> String {
    match kind {
        NodeKind::Send(send) => match &send.action {
            SendAction::Sms(m) => format!("{}: {}", m.from, m.text),
            SendAction::WhatsappTemplate(m) => {
                format!("template {} ({})", m.template.name, m.template.language)
            }
            SendAction::WhatsappText(m) => m.text.clone(),
            SendAction::Voice(m) => format!("call: {}", narration_words(&m.voice["narration"])),
            SendAction::Ivr(m) => {
                let keys: Vec<&str> = m.ivr["keys"]
                    .as_object()
                    .map(|k| k.keys().map(String::as_str).collect())
                    .unwrap_or_default();
                format!("keys {}: {}", keys.join(" "), narration_words(&m.ivr["narration"]))
            }
        },
        NodeKind::SetProperty(n) => match &n.value {
            Some(v) => format!("{} = {v}", n.property),
            None => format!("clear {}", n.property),
        },
        NodeKind::SetSubscription(n) => format!("{} → {}", n.channel.as_str(), n.status.as_str()),
        NodeKind::Delay(Delay {
            duration,
            until_time,
            until_date,
            ..
        }) => match (duration, until_time, until_date) {
            (Some(d), _, _) => format!("for {d}"),
            (_, Some(t), _) => format!("until {t}"),
            (_, _, Some(d)) => format!("until {d}"),
            _ => String::new(),
        },
        NodeKind::WaitEvent(w) => {
            let timeout = w
                .timeout
                .as_deref()
                .map(|t| format!(", at most {t}"))
                .unwrap_or_default();
            format!("{} of {}{timeout}", w.events.join(" or "), w.of)
        }
        NodeKind::Branch(b) => format!("if {}", condition_text(&b.condition)),
        NodeKind::End => "the run ends".into(),
    }
}

/// Cuts text into at most `lines` lines of [`LINE_CHARS`] characters, the
/// last one ending in `…` when text was left out.
fn wrap(text: &str, lines: usize) -> Vec<String> {
    let text: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut left = false;
    for word in text.split(' ') {
        let fits = current.chars().count() + word.chars().count() + usize::from(!current.is_empty()) <= LINE_CHARS;
        if fits {
            if !current.is_empty() {
                current.push(' ');
            }
            current.push_str(word);
            continue;
        }
        if !current.is_empty() {
            out.push(std::mem::take(&mut current));
        }
        if out.len() == lines {
            left = true;
            break;
        }
        // A word longer than a line is cut.
        let mut word: String = word.to_string();
        while word.chars().count() > LINE_CHARS {
            let head: String = word.chars().take(LINE_CHARS).collect();
            word = word.chars().skip(LINE_CHARS).collect();
            out.push(head);
            if out.len() == lines {
                left = true;
                break;
            }
        }
        if left {
            break;
        }
        current = word;
    }
    if !left && !current.is_empty() {
        if out.len() < lines {
            out.push(current);
        } else {
            left = true;
        }
    }
    if left {
        if let Some(last) = out.last_mut() {
            let keep: String = last.chars().take(LINE_CHARS - 1).collect();
            *last = format!("{}…", keep.trim_end());
        }
    }
    out
}

fn edge_label(key: &str, kind: &NodeKind) -> String {
    match key.strip_prefix("on.") {
        Some(TIMEOUT_KEY) => match kind {
            NodeKind::WaitEvent(w) => match &w.timeout {
                Some(t) => format!("timeout {t}"),
                None => "timeout".into(),
            },
            _ => "timeout".into(),
        },
        Some(event) => event.to_string(),
        None => key.to_string(),
    }
}

/// Node ids in the order a run meets them (row by row), unreached last.
pub fn order(def: &Definition) -> Vec<String> {
    rows(def).concat()
}

/// Node depths breadth first from `start`, in discovery order; nodes the
/// start does not reach come last, one row below the others.
fn rows(def: &Definition) -> Vec<Vec<String>> {
    let mut depth: HashMap<String, usize> = HashMap::new();
    let mut order: Vec<String> = Vec::new();
    let mut queue = VecDeque::new();
    if def.nodes.contains_key(def.start.as_str()) {
        depth.insert(def.start.to_string(), 0);
        order.push(def.start.to_string());
        queue.push_back(def.start.to_string());
    }
    while let Some(id) = queue.pop_front() {
        let d = depth[&id];
        let Some(node) = def.node(&id) else { continue };
        for (_, target) in node.targets() {
            let t = target.as_str();
            if def.nodes.contains_key(t) && !depth.contains_key(t) {
                depth.insert(t.to_string(), d + 1);
                order.push(t.to_string());
                queue.push_back(t.to_string());
            }
        }
    }
    let reached_rows = depth.values().max().map(|d| d + 1).unwrap_or(0);
    let mut rows: Vec<Vec<String>> = vec![Vec::new(); reached_rows];
    for id in &order {
        rows[depth[id]].push(id.clone());
    }
    let unreached: Vec<String> = def
        .nodes
        .keys()
        .filter(|id| !depth.contains_key(id.as_str()))
        .map(|id| id.to_string())
        .collect();
    if !unreached.is_empty() {
        rows.push(unreached);
    }
    rows
}

/// The point of a cubic Bézier curve at `t`.
fn bezier(p: [(f64, f64); 4], t: f64) -> (f64, f64) {
    let u = 1.0 - t;
    let (a, b, c, d) = (u * u * u, 3.0 * u * u * t, 3.0 * u * t * t, t * t * t);
    (
        a * p[0].0 + b * p[1].0 + c * p[2].0 + d * p[3].0,
        a * p[0].1 + b * p[1].1 + c * p[2].1 + d * p[3].1,
    )
}

fn label_width(label: &str) -> i64 {
    label.chars().count() as i64 * 6 + 10
}

/// Lays the definition out; `counts` by node id (missing nodes show zeros).
pub fn layout(def: &Definition, counts: &BTreeMap<String, NodeCounts>) -> Graph {
    let mut rows = rows(def);
    // One pass of ordering each row by where its parents sit, which
    // uncrosses most arrows of a tree-like workflow.
    let mut column: HashMap<String, f64> = HashMap::new();
    for (r, row) in rows.iter_mut().enumerate() {
        if r > 0 {
            let parents_of = |id: &str| -> Option<f64> {
                let xs: Vec<f64> = def
                    .nodes
                    .iter()
                    .filter(|(_, n)| n.targets().iter().any(|(_, t)| t.as_str() == id))
                    .filter_map(|(p, _)| column.get(p.as_str()).copied())
                    .collect();
                (!xs.is_empty()).then(|| xs.iter().sum::<f64>() / xs.len() as f64)
            };
            let mut keyed: Vec<(f64, usize, String)> = row
                .iter()
                .enumerate()
                .map(|(i, id)| (parents_of(id).unwrap_or(f64::MAX), i, id.clone()))
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
            *row = keyed.into_iter().map(|(_, _, id)| id).collect();
        }
        let n = row.len() as f64;
        for (i, id) in row.iter().enumerate() {
            column.insert(id.clone(), i as f64 - (n - 1.0) / 2.0);
        }
    }
    let widest = rows.iter().map(Vec::len).max().unwrap_or(1).max(1) as i64;
    let inner = widest * BOX_W + (widest - 1) * H_GAP;
    let row_of = |x: &str| rows.iter().position(|r| r.iter().any(|n| n == x));
    let mut back_pairs: Vec<(&str, &str)> = Vec::new();
    for (id, node) in &def.nodes {
        for (_, t) in node.targets() {
            let up = t.as_str() == id.as_str()
                || matches!((row_of(id.as_str()), row_of(t.as_str())), (Some(a), Some(b)) if b < a);
            if up && !back_pairs.contains(&(id.as_str(), t.as_str())) {
                back_pairs.push((id.as_str(), t.as_str()));
            }
        }
    }
    let has_back = !back_pairs.is_empty();
    let width = MARGIN * 2
        + inner
        + if has_back {
            LOOP_ROOM + 26 * (back_pairs.len() as i64 - 1)
        } else {
            0
        };
    let height = TOP + rows.len() as i64 * (BOX_H + V_GAP) - V_GAP + MARGIN + if has_back { 24 } else { 0 };
    let mut place: HashMap<String, (i64, i64, usize)> = HashMap::new();
    for (r, row) in rows.iter().enumerate() {
        let row_w = row.len() as i64 * BOX_W + (row.len() as i64 - 1) * H_GAP;
        let left = MARGIN + (inner - row_w) / 2;
        for (i, id) in row.iter().enumerate() {
            let x = left + i as i64 * (BOX_W + H_GAP);
            let y = TOP + r as i64 * (BOX_H + V_GAP);
            place.insert(id.clone(), (x, y, r));
        }
    }
    let mut nodes = Vec::new();
    for row in &rows {
        for id in row {
            let node = &def.nodes[id.as_str()];
            let (x, y, _) = place[id];
            nodes.push(GraphNode {
                id: id.clone(),
                node_type: node.type_name().to_string(),
                type_label: type_label(node.type_name()),
                lines: wrap(&summary(&node.kind), 2),
                counts: counts.get(id).cloned().unwrap_or_default(),
                x,
                y,
                start: id.as_str() == def.start.as_str(),
            });
        }
    }
    // Edges between the same two nodes share one arrow and one label.
    let mut merged: Vec<(String, String, Vec<String>)> = Vec::new();
    for (id, node) in &def.nodes {
        for (key, target) in node.targets() {
            if !place.contains_key(target.as_str()) {
                continue;
            }
            let label = edge_label(&key, &node.kind);
            match merged
                .iter_mut()
                .find(|(f, t, _)| f == id.as_str() && t == target.as_str())
            {
                Some(edge) => edge.2.push(label),
                None => merged.push((id.to_string(), target.to_string(), vec![label])),
            }
        }
    }
    let mut out_index: HashMap<String, (usize, usize)> = HashMap::new();
    for (from, to, _) in &merged {
        let forward = place[to].2 > place[from].2;
        if forward {
            out_index.entry(from.clone()).or_insert((0, 0)).1 += 1;
        }
    }
    let mut loops = 0i64;
    let mut edges = Vec::new();
    for (from, to, labels) in merged {
        let (sx, sy, sr) = place[&from];
        let (tx, ty, tr) = place[&to];
        let label = labels.join(", ");
        let label_w = label_width(&label);
        if tr > sr {
            // Out of the bottom (spread when several), into the top.
            let entry = out_index.get_mut(&from).expect("counted above");
            let (k, m) = (entry.0 as f64, entry.1 as f64);
            entry.0 += 1;
            let spread = (BOX_W as f64 * 0.6 / m.max(1.0)).min(48.0);
            let x1 = sx as f64 + BOX_W as f64 / 2.0 + (k - (m - 1.0) / 2.0) * spread;
            let y1 = (sy + BOX_H) as f64;
            let x2 = tx as f64 + BOX_W as f64 / 2.0;
            let y2 = ty as f64 - 2.0;
            let dy = ((y2 - y1) / 2.0).max(30.0);
            let p = [(x1, y1), (x1, y1 + dy), (x2, y2 - dy), (x2, y2)];
            let (lx, ly) = bezier(p, 0.45);
            edges.push(GraphEdge {
                from,
                to,
                d: format!(
                    "M{:.0} {:.0} C{:.0} {:.0}, {:.0} {:.0}, {:.0} {:.0}",
                    p[0].0, p[0].1, p[1].0, p[1].1, p[2].0, p[2].1, p[3].0, p[3].1
                ),
                label_x: lx.round() as i64,
                label_y: ly.round() as i64,
                label_w,
                label,
                back: false,
            });
        } else if tr == sr && from != to {
            // Within a row: straight across the gap, labelled above.
            let y = (sy + BOX_H / 2) as f64;
            let (x1, x2) = if tx > sx {
                ((sx + BOX_W) as f64, tx as f64 - 2.0)
            } else {
                (sx as f64, (tx + BOX_W) as f64 + 2.0)
            };
            edges.push(GraphEdge {
                from,
                to,
                d: format!("M{x1:.0} {y:.0} L{x2:.0} {y:.0}"),
                label_x: ((x1 + x2) / 2.0).round() as i64,
                label_y: y as i64 - 14,
                label_w,
                label,
                back: false,
            });
        } else {
            // Down out of the bottom's right end into the gap below the
            // row, right to a lane of its own beside the graph, up, and into
            // the target's right side: never across a box.
            let lane = (MARGIN + inner + 28 + loops * 26) as f64;
            let x1 = (sx + BOX_W - 16) as f64;
            let y1 = (sy + BOX_H) as f64;
            let below = y1 + 22.0 + loops as f64 * 6.0;
            let x2 = (tx + BOX_W) as f64 + 2.0;
            let y2 = (ty + BOX_H / 2) as f64;
            let r = 8.0;
            let d = format!(
                "M{x1:.0} {y1:.0} L{x1:.0} {:.0} Q{x1:.0} {below:.0} {:.0} {below:.0} L{:.0} {below:.0} \
                 Q{lane:.0} {below:.0} {lane:.0} {:.0} L{lane:.0} {:.0} Q{lane:.0} {y2:.0} {:.0} {y2:.0} L{x2:.0} {y2:.0}",
                below - r,
                x1 + r,
                lane - r,
                below - r,
                y2 + r,
                lane - r,
            );
            let label_y = ((below + y2) / 2.0).round() as i64 + loops * 20;
            loops += 1;
            edges.push(GraphEdge {
                from,
                to,
                d,
                label_x: (lane.round() as i64).min(width - label_w / 2 - 2),
                label_y,
                label_w,
                label,
                back: true,
            });
        }
    }
    Graph {
        width,
        height,
        box_w: BOX_W,
        box_h: BOX_H,
        nodes,
        edges,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn def(v: serde_json::Value) -> Definition {
        Definition::parse(&v).unwrap()
    }

    #[test]
    fn rows_follow_depth_from_start_and_unreached_nodes_come_last() {
        let d = def(json!({"triggers": [{"type": "manual"}], "start": "a", "nodes": {
            "a": {"type": "delay", "duration": "P1D", "next": "b"},
            "b": {"type": "branch", "condition": {"property": "x", "op": "is_known"}, "then": "c", "else": "a"},
            "c": {"type": "end"}, "z": {"type": "end"}}}));
        assert_eq!(rows(&d), vec![vec!["a"], vec!["b"], vec!["c"], vec!["z"]]);
        let g = layout(&d, &BTreeMap::new());
        assert_eq!(g.nodes.len(), 4);
        let back: Vec<_> = g
            .edges
            .iter()
            .filter(|e| e.back)
            .map(|e| (e.from.as_str(), e.label.as_str()))
            .collect();
        assert_eq!(back, vec![("b", "else")]);
        assert!(g.width > 2 * MARGIN + BOX_W, "room for the loop");
    }

    #[test]
    fn long_text_is_cut_to_two_lines() {
        let lines = wrap(&"word ".repeat(40), 2);
        assert_eq!(lines.len(), 2);
        assert!(lines[1].ends_with('…'));
        assert!(lines.iter().all(|l| l.chars().count() <= LINE_CHARS));
        assert_eq!(wrap("short", 2), vec!["short"]);
    }
}
