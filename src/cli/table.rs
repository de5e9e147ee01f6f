//! Plain-text tables for listings: left-aligned columns, two spaces apart.

use std::io::Write;

/// Writes `header` and `rows` to `out` with each column as wide as its
/// widest cell.
pub fn print(out: &mut impl Write, header: &[&str], rows: &[Vec<String>]) -> std::io::Result<()> {
    let mut widths: Vec<usize> = header.iter().map(|title| title.chars().count()).collect();
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let header: Vec<String> = header.iter().map(|title| title.to_string()).collect();
    print_row(out, &header, &widths)?;
    for row in rows {
        print_row(out, row, &widths)?;
    }
    Ok(())
}

fn print_row(out: &mut impl Write, cells: &[String], widths: &[usize]) -> std::io::Result<()> {
    let padded: Vec<String> = cells
        .iter()
        .zip(widths)
        .map(|(cell, width)| format!("{cell:<width$}"))
        .collect();
    writeln!(out, "{}", padded.join("  ").trim_end())
}
