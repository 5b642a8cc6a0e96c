//! SVG charts (plotters, SVG backend only): speedup over JSON per dataset and operation, and
//! size per codec.

use std::error::Error;
use std::path::Path;

use plotters::coord::combinators::IntoLogRange;
use plotters::coord::ranged1d::SegmentValue;
use plotters::prelude::*;
use zerocodec_datasets::codecs::Op;

use crate::measure::DatasetResult;
use crate::output::speedup;

/// Every codec name the table can hold, in legend order; each keeps its color.
pub(crate) const KNOWN_CODECS: [&str; 13] = zerocodec_datasets::codecs::CODEC_NAMES;

const COLORS: [RGBColor; 13] = [
    RGBColor(0x88, 0x88, 0x88),
    RGBColor(0xD6, 0x27, 0x28),
    RGBColor(0x1F, 0x77, 0xB4),
    RGBColor(0x8C, 0x56, 0x4B),
    RGBColor(0x17, 0xBE, 0xCF),
    RGBColor(0x94, 0x67, 0xBD),
    RGBColor(0xE3, 0x77, 0xC2),
    // hybrid+bitcode and hybrid+bitcode+zstd: darker shades of the bitcode peer's orange.
    RGBColor(0xB3, 0x58, 0x06),
    RGBColor(0x7F, 0x3B, 0x08),
    RGBColor(0xBC, 0xBD, 0x22),
    RGBColor(0xFF, 0x98, 0x96),
    RGBColor(0x2C, 0xA0, 0x2C),
    RGBColor(0xFF, 0x7F, 0x0E),
];

fn color_of(codec: &str) -> RGBColor {
    KNOWN_CODECS
        .iter()
        .position(|&c| c == codec)
        .map_or(RGBColor(0x55, 0x55, 0x55), |i| COLORS[i])
}

/// Codec names across all datasets, in table order.
fn codec_names(results: &[DatasetResult]) -> Vec<&'static str> {
    let mut names = Vec::new();
    for d in results {
        for c in &d.codecs {
            if !names.contains(&c.name) {
                names.push(c.name);
            }
        }
    }
    names
}

/// Slot layout of a grouped bar chart: one group of `bars` slots (plus a gap) per dataset.
struct Groups {
    datasets: Vec<&'static str>,
    bars: usize,
}

impl Groups {
    fn slots(&self) -> i32 {
        (self.datasets.len() * (self.bars + 1)) as i32
    }
    fn slot(&self, dataset: usize, bar: usize) -> i32 {
        (dataset * (self.bars + 1) + bar) as i32
    }
    fn label(&self, value: &SegmentValue<i32>) -> String {
        let SegmentValue::CenterOf(slot) = value else {
            return String::new();
        };
        let group = self.bars + 1;
        let slot = *slot as usize;
        if slot % group == self.bars / 2 {
            self.datasets
                .get(slot / group)
                .map_or_else(String::new, |s| (*s).to_owned())
        } else {
            String::new()
        }
    }
}

/// docs/img/speedup.svg: one panel per operation, bars per dataset and codec, log scale.
pub(crate) fn speedup_svg(path: &Path, results: &[DatasetResult]) -> Result<(), Box<dyn Error>> {
    let names: Vec<&str> = codec_names(results)
        .into_iter()
        .filter(|&c| c != "json")
        .collect();
    let root = SVGBackend::new(path, (1100, 1250)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((3, 1));
    for (panel, op) in panels.iter().zip(Op::ALL) {
        let series: Vec<&str> = names
            .iter()
            .copied()
            .filter(|c| {
                results
                    .iter()
                    .any(|d| d.codec(c).and_then(|r| r.op(op)).is_some())
            })
            .collect();
        let values: Vec<f64> = results
            .iter()
            .flat_map(|d| {
                series
                    .iter()
                    .filter_map(move |c| d.codec(c).and_then(|r| speedup(d, r, op)))
            })
            .collect();
        // Headroom above the tallest bar for the legend (log scale: about 1.5 decades).
        let hi = values.iter().copied().fold(2.0, f64::max) * 30.0;
        let lo = values.iter().copied().fold(0.5, f64::min) / 2.0;
        let groups = Groups {
            datasets: results.iter().map(|d| d.name).collect(),
            bars: series.len().max(1),
        };
        let title = match op {
            Op::Access => "access (validated, in place): times faster than json decode".to_owned(),
            _ => format!("{op}: times faster than json {op}"),
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d((0..groups.slots()).into_segmented(), (lo..hi).log_scale())?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups.slots() as usize + 1)
            .x_label_formatter(&|v| groups.label(v))
            .y_label_formatter(&|v| format!("{v}x"))
            .y_desc("speedup over json (log scale)")
            .draw()?;
        chart.draw_series(std::iter::once(PathElement::new(
            vec![
                (SegmentValue::Exact(0), 1.0),
                (SegmentValue::Exact(groups.slots()), 1.0),
            ],
            BLACK.stroke_width(1),
        )))?;
        for (j, &codec) in series.iter().enumerate() {
            let color = color_of(codec);
            let bars: Vec<_> = results
                .iter()
                .enumerate()
                .filter_map(|(i, d)| {
                    let s = speedup(d, d.codec(codec)?, op)?;
                    let slot = groups.slot(i, j);
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(slot), lo),
                            (SegmentValue::Exact(slot + 1), s.max(lo)),
                        ],
                        color.filled(),
                    );
                    bar.set_margin(0, 0, 1, 1);
                    Some(bar)
                })
                .collect();
            chart.draw_series(bars)?.label(codec).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
            });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

/// docs/img/size.svg: encoded and zstd-3 sizes per codec, as a percentage of json's encoding.
pub(crate) fn size_svg(path: &Path, results: &[DatasetResult]) -> Result<(), Box<dyn Error>> {
    let names = codec_names(results);
    let root = SVGBackend::new(path, (1100, 850)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((2, 1));
    let groups = Groups {
        datasets: results.iter().map(|d| d.name).collect(),
        bars: names.len().max(1),
    };
    for (panel, compressed) in panels.iter().zip([false, true]) {
        let pct = |d: &DatasetResult, codec: &str| -> Option<f64> {
            let json = d.codec("json")?.bytes as f64;
            let c = d.codec(codec)?;
            let bytes = if compressed { c.zstd_bytes } else { c.bytes };
            Some(bytes as f64 / json * 100.0)
        };
        let hi = results
            .iter()
            .flat_map(|d| names.iter().filter_map(move |c| pct(d, c)))
            .fold(100.0, f64::max)
            * 1.4; // headroom for the legend
        let title = if compressed {
            "size after zstd-3, % of json's uncompressed size"
        } else {
            "encoded size, % of json's"
        };
        let mut chart = ChartBuilder::on(panel)
            .caption(title, ("sans-serif", 20))
            .margin(12)
            .x_label_area_size(28)
            .y_label_area_size(64)
            .build_cartesian_2d((0..groups.slots()).into_segmented(), 0.0..hi)?;
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(groups.slots() as usize + 1)
            .x_label_formatter(&|v| groups.label(v))
            .y_label_formatter(&|v| format!("{v:.0}%"))
            .y_desc("% of json")
            .draw()?;
        for (j, &codec) in names.iter().enumerate() {
            let color = color_of(codec);
            let bars: Vec<_> = results
                .iter()
                .enumerate()
                .filter_map(|(i, d)| {
                    let p = pct(d, codec)?;
                    let slot = groups.slot(i, j);
                    let mut bar = Rectangle::new(
                        [
                            (SegmentValue::Exact(slot), 0.0),
                            (SegmentValue::Exact(slot + 1), p),
                        ],
                        color.filled(),
                    );
                    bar.set_margin(0, 0, 1, 1);
                    Some(bar)
                })
                .collect();
            chart.draw_series(bars)?.label(codec).legend(move |(x, y)| {
                Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled())
            });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperRight)
            .background_style(WHITE.mix(0.9))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}
