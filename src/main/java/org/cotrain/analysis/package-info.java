/**
 * Looking inside trained policies: linear probes and nearest neighbours over their features (which domain, which
 * demo). May import train and everything below.
 */
package org.cotrain.analysis;
