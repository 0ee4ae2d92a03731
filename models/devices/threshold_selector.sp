* threshold_selector: read (static) I-V of a threshold-switching selector, as a subcircuit.
*
*   I(p, n) = V * (goff + (g - goff) * s(V)),  s(V) = (1 + tanh((|V| - vth) / dv)) / 2
*
* A smooth, symmetric form of the selector's two branches: below the threshold vth it
* conducts goff (leakage), above it g (the on-state conductance); dv sets how sharp
* the turn-on is. This is the volatile selector's quasi-static read law as used for
* selector-in-crossbar studies (threshold voltage, on/off ratio, turn-on slope), e.g.
* J. Zhou, K.-H. Kim, W. Lu, "Crossbar RRAM arrays: selector device requirements during
* read operation", IEEE Trans. Electron Devices 61(5), pp. 1369-1376, 2014,
* doi:10.1109/TED.2014.2310200 (a selector is characterised by its threshold and its
* on/off ratio at read bias). No hysteresis: read operation only.
*
* g    : on-state conductance, siemens (spicebar puts G[i, j] here by default)
* goff : off-state (leakage) conductance, siemens
* vth  : threshold voltage, volts
* dv   : width of the turn-on, volts
* The |V| is written sqrt(V^2 + 1e-12) so the law is smooth at 0 V.
.subckt threshold_selector p n params: g=1e-4 goff=1e-9 vth=0.5 dv=0.05
b1 p n i=v(p,n)*({goff}+({g}-{goff})*0.5*(1+tanh((sqrt(v(p,n)*v(p,n)+1e-12)-{vth})/{dv})))
.ends threshold_selector
