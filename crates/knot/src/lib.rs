//! knot
