package org.cotrain.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** Disc-versus-outline contacts: faces, convex corners (merged), the T's nook (two), deep penetration, poses. */
class BlockContactsTest {

    private static final double R = 15;
    private final BlockShape tee = BlockShape.tee();
    private final BlockContacts contacts = new BlockContacts(tee, R);

    @Test
    void faceContactHasTheFaceNormal() {
        // Above the top face (y = 0, outward -y), 1 px of overlap.
        assertEquals(1, contacts.find(0, 0, 0, 20, -14, 0));
        assertContact(0, 20, 0, 0, -1, 1);
        // Nothing within reach: none, unless the margin reaches it (a speculative contact, negative depth).
        assertEquals(0, contacts.find(0, 0, 0, 20, -17, 0));
        assertEquals(1, contacts.find(0, 0, 0, 20, -17, 3));
        assertContact(0, 20, 0, 0, -1, -2);
    }

    @Test
    void convexCornerGivesOneMergedContact() {
        // Off the bar's top-right corner (60, 0), diagonally: both edges' closest point is the corner.
        double off = 10;
        assertEquals(1, contacts.find(0, 0, 0, 60 + off, -off, 0));
        double d = Math.hypot(off, off);
        assertContact(0, 60, 0, off / d, -off / d, R - d);
    }

    @Test
    void nookGivesTwoContactsOnTwoEdges() {
        // The concave corner (15, 30) where the stem meets the bar: the disc at (29, 44) overlaps the bar's
        // underside (y = 30) and the stem's side (x = 15) by 1 px each, at two different points.
        assertEquals(2, contacts.find(0, 0, 0, 29, 44, 0));
        boolean underside = false, side = false;
        for (int k = 0; k < 2; k++) {
            assertEquals(1, contacts.depth(k), 1e-12);
            if (contacts.normalY(k) == 1) {
                underside = true;
                assertEquals(29, contacts.pointX(k), 1e-12);
                assertEquals(30, contacts.pointY(k), 1e-12);
            } else {
                side = true;
                assertEquals(1, contacts.normalX(k), 1e-12);
                assertEquals(15, contacts.pointX(k), 1e-12);
                assertEquals(44, contacts.pointY(k), 1e-12);
            }
        }
        assertTrue(underside && side, "one contact on each edge of the nook");
    }

    @Test
    void deepPenetrationStillPointsOutward() {
        // Centre inside the bar, 3 px below its top face: the nearest edge is the top face.
        assertEquals(1, contacts.find(0, 0, 0, -30, 3, 0));
        assertContact(0, -30, 0, 0, -1, R + 3);
        // Inside the stem nearer its right side.
        assertEquals(1, contacts.find(0, 0, 0, 10, 80, 0));
        assertContact(0, 15, 80, 1, 0, R + 5);
    }

    @Test
    void posedBlockMatchesBodyFrameAnswer() {
        // The same nook query with the block moved and turned: points by the pose, normals by the rotation.
        double bx = 200, by = 310, th = 0.8, c = Math.cos(th), s = Math.sin(th);
        double px = bx + c * 29 - s * 44, py = by + s * 29 + c * 44;
        assertEquals(2, contacts.find(bx, by, th, px, py, 0));
        for (int k = 0; k < 2; k++) {
            // Each point is the disc centre minus (radius - depth) along the normal.
            double dist = R - contacts.depth(k);
            assertEquals(px, contacts.pointX(k) + dist * contacts.normalX(k), 1e-9);
            assertEquals(py, contacts.pointY(k) + dist * contacts.normalY(k), 1e-9);
            assertEquals(1, Math.hypot(contacts.normalX(k), contacts.normalY(k)), 1e-12);
        }
    }

    @Test
    void contactsAgreeWithPolygonDistanceEverywhere() {
        // Random discs near every shape: the deepest contact's depth is the disc's overlap measured by plain polygon
        // geometry, each contact point lies on the outline, and every normal points away from the block.
        Random rng = new Random(3);
        for (BlockShape shape : new BlockShape[] {BlockShape.tee(), BlockShape.ell(), BlockShape.plus()}) {
            BlockContacts bc = new BlockContacts(shape, R);
            for (int i = 0; i < 5000; i++) {
                PushState s = PushTesting.state(100 * rng.nextDouble(), 100 * rng.nextDouble(),
                        6 * rng.nextDouble(), -60 + 260 * rng.nextDouble(), -60 + 260 * rng.nextDouble());
                double overlap = PushTesting.overlap(shape, R, s);
                int n = bc.find(s.bx, s.by, s.theta, s.px, s.py, 0);
                if (overlap <= 0) {
                    assertEquals(0, n, "no contact without overlap");
                    continue;
                }
                assertTrue(n >= 1, "overlap " + overlap + " but no contact");
                double deepest = -1;
                double[][] outline = Polygons.transform(shape.outline(), s.blockPose());
                for (int k = 0; k < n; k++) {
                    deepest = Math.max(deepest, bc.depth(k));
                    assertEquals(0, Polygons.distanceToBoundary(outline, bc.pointX(k), bc.pointY(k)), 1e-9);
                    // A step outward along the normal leaves the block.
                    double ox = bc.pointX(k) + 0.01 * bc.normalX(k), oy = bc.pointY(k) + 0.01 * bc.normalY(k);
                    assertTrue(!Polygons.contains(outline, ox, oy), "normal points into the block");
                }
                assertEquals(overlap, deepest, 1e-9);
            }
        }
    }

    @Test
    void badRadiusIsNamed() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> new BlockContacts(tee, 0));
        assertTrue(e.getMessage().contains("pusherRadius"));
    }

    private void assertContact(int k, double x, double y, double nx, double ny, double depth) {
        assertEquals(x, contacts.pointX(k), 1e-12, "point x");
        assertEquals(y, contacts.pointY(k), 1e-12, "point y");
        assertEquals(nx, contacts.normalX(k), 1e-12, "normal x");
        assertEquals(ny, contacts.normalY(k), 1e-12, "normal y");
        assertEquals(depth, contacts.depth(k), 1e-12, "depth");
    }
}
