* sinh_cell: the read I-V of spicebar's built-in `nonlinear` cell, as a subcircuit.
*   I(p, n) = g * v0 * sinh(V(p, n) / v0)
* g  : small-signal conductance at 0 V, siemens (spicebar puts G[i, j] here)
* v0 : voltage scale of the nonlinearity, volts
* The same device in Verilog-A is sinh_cell.va.
.subckt sinh_cell p n params: g=1e-5 v0=0.25
b1 p n i={g*v0}*sinh(v(p,n)/{v0})
.ends sinh_cell
